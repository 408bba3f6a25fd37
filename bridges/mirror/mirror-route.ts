import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError, errorBody, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { MIRROR_MAX_EVENTS, MIRROR_PATH, type MirrorResult } from "#shared/mirror-protocol.ts";
import { checkMirrorHeaders, DEFAULT_TOLERANCE_SECONDS, verifyMirrorRequest } from "#shared/mirror-signature.ts";
import { topicForType } from "#shared/names.ts";
import { type BodyBudget, readBoundedText } from "../http/bounded-body.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import { type BindingMode, toKafkaRecord } from "./cloud-event-binding.ts";
import { MemoryNonceStore, type NonceStore } from "./nonce-store.ts";
import type { TopicMapping } from "./topic-mapping.ts";

const log = createLogger({ component: "mirror" });

export interface MirrorRouteOptions {
  readonly producer: RecordProducer;
  /** The HMAC secret, or every secret accepted during a rotation. */
  readonly secret: string | readonly string[];
  readonly mapping: TopicMapping;
  readonly mode: BindingMode;
  readonly toleranceSeconds?: number;
  readonly maxBodyBytes?: number;
  /** Bytes of request bodies all mirror calls hold at once; none = only `maxBodyBytes`. */
  readonly bodyBudget?: BodyBudget;
  /** Seen nonces (replay protection); the bridge uses Redis, the default is this process's memory. */
  readonly nonces?: NonceStore;
  /** Called with the results of every accepted request (metrics). */
  readonly onResults?: (results: readonly MirrorResult[]) => void;
  /**
   * Called once per event Kafka acknowledged, with the seconds from the event's `time` (at the
   * edge) to the acknowledgement (the mirror's delay; 0 when the edge clock was ahead).
   */
  readonly onAppended?: (delaySeconds: number) => void;
}

/**
 * A full batch of the largest events the producer accepts (100 × ~128 kB) must fit, or the
 * Worker would dead-letter a legitimate batch on a 413.
 */
export const DEFAULT_MIRROR_MAX_BODY_BYTES = 16 * 1_048_576;

const requestSchema = z.object({ events: z.array(z.unknown()).min(1).max(MIRROR_MAX_EVENTS) });

/** The attributes every CloudEvent must carry (envelope validation happened at the edge; this is a sanity check). */
const eventSchema = z
  .object({
    specversion: z.literal("1.0"),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().min(1),
    time: z.string().min(1),
  })
  .passthrough();

/**
 * `POST /v1/mirror` (wire format in shared/src/mirror-protocol.ts). In this order, so that an
 * unsigned request costs no body bytes and a forged one at most `maxBodyBytes`:
 * 1. the signature headers: present, well-formed, timestamp within the tolerance (else 401);
 * 2. the body, read on the stream up to `maxBodyBytes` (413) within the area's budget (429);
 * 3. the HMAC over timestamp, nonce and raw body against every accepted secret (401);
 * 4. the body: `{events: [1..100]}` (400);
 * 5. the nonce, claimed once in the nonce store: a replay is 409 `conflict`, a store that cannot
 *    answer 503 (fail closed);
 * 6. the batch: each event written to Kafka per the CloudEvents Kafka binding, one result per
 *    event in request order (503 + Retry-After up front when the producer's queue is full).
 * An event is `acked` only after Kafka acknowledged it
 * (`acks=all`). Events are produced per destination topic, so one topic failing does not fail
 * the others. An event whose topic the mapping excludes is `acked` without a topic: there is
 * nothing to mirror, and the Worker must not retry it.
 */
export function createMirrorRoute(options: MirrorRouteOptions): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MIRROR_MAX_BODY_BYTES;
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nonces = options.nonces ?? new MemoryNonceStore();
  const app = new Hono();
  app.onError((error, c) => renderError(c, error));

  app.post(MIRROR_PATH, async (c) => {
    const headers = checkMirrorHeaders(c.req.raw.headers, { toleranceSeconds });
    if (!headers.ok) throw new EdgebusError("unauthorized", `mirror signature refused: ${headers.reason}`);
    const raw = await readBoundedText(c, { maxBytes: maxBodyBytes, budget: options.bodyBudget });
    const check = await verifyMirrorRequest(options.secret, raw, c.req.raw.headers, { toleranceSeconds });
    if (!check.ok) throw new EdgebusError("unauthorized", `mirror signature refused: ${check.reason}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new EdgebusError("malformed_json", "request body is not valid JSON");
    }
    const body = requestSchema.safeParse(parsed);
    if (!body.success) {
      throw new EdgebusError("bad_request", `body must be {"events": [1..${MIRROR_MAX_EVENTS} CloudEvents]}`, {
        details: body.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      });
    }
    // Claimed only for a batch that can be written (a refused one leaves nothing behind), and
    // kept past the whole window in which its timestamp is accepted by any bridge's clock.
    if (!(await nonces.claim(check.nonce, 2 * toleranceSeconds + 60))) {
      throw new EdgebusError("conflict", "mirror request refused: this nonce was already used (a replayed request)");
    }
    if (options.producer.saturated) {
      throw new EdgebusError("upstream_unavailable", "the bridge's Kafka producer queue is full; retry shortly", {
        retryAfterSeconds: 1,
      });
    }
    const results = await mirror(body.data.events, options);
    options.onResults?.(results);
    return c.json({ results });
  });
  return app;
}

async function mirror(events: readonly unknown[], options: MirrorRouteOptions): Promise<MirrorResult[]> {
  const results: MirrorResult[] = new Array(events.length);
  const byTopic = new Map<string, { index: number; event: CloudEventRecord }[]>();
  events.forEach((candidate, index) => {
    const parsed = eventSchema.safeParse(candidate);
    const ids = identify(candidate);
    if (!parsed.success) {
      results[index] = failed(
        ids,
        new EdgebusError("invalid_envelope", "not a CloudEvents 1.0 event (specversion, id, source, type, time)"),
      );
      return;
    }
    const event = parsed.data as CloudEventRecord;
    let topic: string | null;
    try {
      topic = options.mapping.map(topicForType(event.type));
    } catch (error) {
      results[index] = failed(ids, new EdgebusError("invalid_envelope", (error as Error).message));
      return;
    }
    if (topic === null) {
      results[index] = { ...ids, status: "acked" };
      return;
    }
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), { index, event }]);
  });

  await Promise.all(
    [...byTopic].map(async ([topic, group]) => {
      try {
        const receipts = await options.producer.produce(
          group.map(({ event }) => toKafkaRecord(event, topic, options.mode)),
        );
        const appendedAt = Date.now();
        group.forEach(({ index, event }, i) => {
          const eventTime = Date.parse(event.time);
          if (Number.isFinite(eventTime)) options.onAppended?.(Math.max(0, (appendedAt - eventTime) / 1000));
          const receipt = receipts[i];
          results[index] = {
            id: event.id,
            source: event.source,
            status: "acked",
            topic: receipt?.topic ?? topic,
            partition: receipt?.partition,
            offset: receipt?.offset,
          };
        });
      } catch (error) {
        const failure = toEdgebusError(error);
        for (const { index, event } of group)
          results[index] = failed({ id: event.id, source: event.source }, failure, topic);
      }
    }),
  );
  return results;
}

function identify(candidate: unknown): { id: string; source: string } {
  const record = (candidate ?? {}) as Record<string, unknown>;
  return {
    id: typeof record.id === "string" ? record.id : "",
    source: typeof record.source === "string" ? record.source : "",
  };
}

function failed(ids: { id: string; source: string }, error: EdgebusError, topic?: string): MirrorResult {
  return {
    ...ids,
    status: "failed",
    ...(topic === undefined ? {} : { topic }),
    error: { code: error.code, message: error.message, retryable: error.retryable },
  };
}

function renderError(c: Context, error: unknown): Response {
  const failure = toEdgebusError(error);
  if (failure.code === "internal") log.log("error", "internal error", { path: c.req.path, ...errorLogFields(error) });
  const requestId = c.req.header("x-request-id") ?? randomUUID();
  if (failure.retryAfterSeconds !== undefined) c.header("retry-after", String(failure.retryAfterSeconds));
  return c.json(errorBody(failure, requestId), failure.status as ContentfulStatusCode);
}
