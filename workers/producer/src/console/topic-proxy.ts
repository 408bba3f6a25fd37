/**
 * The console's window on Kafka: the bridge's `GET /v1/topics/{topic}/events` and `/stream`
 * (Server-Sent Events), fetched by the producer with its own Kafka REST login, so the browser
 * never holds a bridge credential. Only the catalogue's topics are reachable; the type and
 * source filters go to the bridge as they are (its globs); personal data is masked on the way
 * through unless the session's key may see it (`personal-data.ts`).
 */
import type { Context } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import type { ProducerEnv } from "../hono-env.ts";
import { maskEvent } from "./personal-data.ts";

const EVENTS_TIMEOUT_MS = 5000;
const FILTER_PATTERN = /^[\w.*/:@-]{1,200}$/;

interface BridgeAccess {
  readonly url: string;
  readonly authorization: string;
}

function bridgeAccess(c: Context<ProducerEnv>): BridgeAccess {
  const { config } = c.get("caps");
  if (config.console.bridgeUrl === null || config.kafka === null) {
    throw new EdgebusError(
      "upstream_unavailable",
      "the live tail needs the bridge: set UPSTASH_KAFKA_REST_URL (…/kafka) and its login, or CONSOLE_BRIDGE_URL",
      { retryable: false },
    );
  }
  return {
    url: config.console.bridgeUrl,
    authorization: `Basic ${btoa(`${config.kafka.username}:${config.kafka.password}`)}`,
  };
}

/** The `{topic}` parameter, if it is one of the catalogue's topics (404 otherwise). */
function catalogueTopic(c: Context<ProducerEnv>): string {
  const topic = c.req.param("topic") ?? "";
  if (
    !c
      .get("caps")
      .catalogue.topics()
      .some((known) => known.name === topic)
  ) {
    throw new EdgebusError("not_found", `no topic ${JSON.stringify(topic)} in the catalogue`);
  }
  return topic;
}

/** `type` and `source` filters (repeatable) checked and passed on. */
function filterParams(c: Context<ProducerEnv>, into: URLSearchParams): void {
  for (const name of ["type", "source"] as const) {
    for (const value of c.req.queries(name) ?? []) {
      if (value === "") continue;
      if (!FILTER_PATTERN.test(value)) {
        throw new EdgebusError("bad_request", `${name} filter must be a glob of letters, digits and . * / : @ - _`, {
          details: { problems: [{ field: name, message: "invalid pattern" }] },
        });
      }
      into.append(name, value);
    }
  }
}

async function bridgeError(response: Response): Promise<EdgebusError> {
  const text = await response.text().catch(() => "");
  return new EdgebusError("upstream_unavailable", `the bridge answered ${response.status}: ${text.slice(0, 200)}`, {
    retryAfterSeconds: 5,
  });
}

/** Simple glob (`*` = any run) used to filter `/events` answers the way the bridge filters streams. */
function globMatches(pattern: string, value: string): boolean {
  const parts = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`).test(value);
}

/** `GET /console/api/topics/{topic}/events?limit=&type=&source=`: the newest events, oldest first. */
export async function latestEvents(c: Context<ProducerEnv>, mask: boolean): Promise<Response> {
  const topic = catalogueTopic(c);
  const access = bridgeAccess(c);
  const limit = Math.min(100, Math.max(1, Number(c.req.query("limit") ?? 50) || 50));
  const filters = new URLSearchParams();
  filterParams(c, filters);
  const response = await fetch(`${access.url}/v1/topics/${encodeURIComponent(topic)}/events?limit=${limit}`, {
    headers: { authorization: access.authorization },
    signal: AbortSignal.timeout(EVENTS_TIMEOUT_MS),
  }).catch((thrown: unknown) => {
    throw new EdgebusError("upstream_unavailable", "the bridge did not answer", {
      cause: thrown,
      retryAfterSeconds: 5,
    });
  });
  if (response.status === 404) {
    // The bridge creates a topic with its first event: a catalogue topic without one is empty.
    await response.body?.cancel();
    c.header("Cache-Control", "no-store");
    return c.json({ topic, exists: false, events: [], truncated: false, masked: mask });
  }
  if (!response.ok) throw await bridgeError(response);
  const body = (await response.json()) as { events: { event?: Record<string, unknown> }[]; truncated: boolean };
  const types = filters.getAll("type");
  const sources = filters.getAll("source");
  const events = body.events
    .filter(({ event }) => {
      if (event === undefined) return types.length === 0 && sources.length === 0;
      const typeOk = types.length === 0 || types.some((p) => globMatches(p, String(event.type)));
      const sourceOk = sources.length === 0 || sources.some((p) => globMatches(p, String(event.source)));
      return typeOk && sourceOk;
    })
    .map((entry) => (mask && entry.event !== undefined ? { ...entry, event: maskEvent(entry.event) } : entry));
  c.header("Cache-Control", "no-store");
  return c.json({ topic, exists: true, events, truncated: body.truncated, masked: mask });
}

/** Masks the `data:` line of each SSE block (one line of JSON per event, as the bridge writes them). */
function maskingStream(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  const maskLine = (line: string) => {
    if (!line.startsWith("data: ")) return line;
    try {
      return `data: ${JSON.stringify(maskEvent(JSON.parse(line.slice(6))))}`;
    } catch {
      return line;
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      if (lines.length > 0) controller.enqueue(encoder.encode(`${lines.map(maskLine).join("\n")}\n`));
    },
    flush(controller) {
      if (pending !== "") controller.enqueue(encoder.encode(maskLine(pending)));
    },
  });
}

/**
 * `GET /console/api/topics/{topic}/stream?type=&source=`: the bridge's SSE stream, relayed.
 * `Last-Event-ID` (an `EventSource` reconnecting) is passed on, so a reconnect resumes where
 * it stopped; the bridge's `event: error` (slow consumer) reaches the page as it is.
 */
export async function liveStream(c: Context<ProducerEnv>, mask: boolean): Promise<Response> {
  const topic = catalogueTopic(c);
  const access = bridgeAccess(c);
  const params = new URLSearchParams();
  filterParams(c, params);
  const lastEventId = c.req.header("last-event-id");
  const query = params.toString();
  const response = await fetch(
    `${access.url}/v1/topics/${encodeURIComponent(topic)}/stream${query === "" ? "" : `?${query}`}`,
    {
      headers: {
        authorization: access.authorization,
        accept: "text/event-stream",
        ...(lastEventId !== undefined && /^[\d:,-]{1,2000}$/.test(lastEventId) ? { "last-event-id": lastEventId } : {}),
      },
      signal: c.req.raw.signal,
    },
  ).catch((thrown: unknown) => {
    throw new EdgebusError("upstream_unavailable", "the bridge did not answer", {
      cause: thrown,
      retryAfterSeconds: 5,
    });
  });
  if (!response.ok || response.body === null) throw await bridgeError(response);
  const body = mask ? response.body.pipeThrough(maskingStream()) : response.body;
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    },
  });
}
