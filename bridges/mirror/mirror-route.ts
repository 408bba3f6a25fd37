import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError, errorBody, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { MIRROR_MAX_EVENTS, MIRROR_PATH, type MirrorResult } from "#shared/mirror-protocol.ts";
import { checkMirrorHeaders, DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER } from "#shared/mirror-signature.ts";
import { type BodyBudget, type BodyLimits, readBoundedBody } from "../http/bounded-body.ts";
import type { LeanRoute } from "../http/lean-routes.ts";
import { edgeTopicOf } from "../kafka/catalogue-topics.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import type { BindingMode } from "./cloud-event-binding.ts";
import { MemoryNonceStore, type NonceStore } from "./nonce-store.ts";
import { KafkaTarget } from "./targets/kafka-target.ts";
import type { DeliveryOutcome, MirrorDelivery, MirrorTarget } from "./targets/mirror-target.ts";
import type { TopicMapping } from "./topic-mapping.ts";

const log = createLogger({ component: "mirror" });

/** The mirror into Kafka alone, as before targets existed (the bridge's producer, one mapping and mode). */
export interface KafkaOnlyOptions {
  readonly producer: RecordProducer;
  readonly mapping: TopicMapping;
  readonly mode: BindingMode;
}

/** What one target did with one request's events (metrics). */
export interface TargetReport {
  readonly target: MirrorTarget;
  readonly outcomes: readonly DeliveryOutcome[];
  /** Seconds from handing the events to the target to its last confirm. */
  readonly seconds: number;
}

export type MirrorRouteOptions = MirrorRouteCommon & ({ readonly targets: readonly MirrorTarget[] } | KafkaOnlyOptions);

interface MirrorRouteCommon {
  /** The HMAC secret, or every secret accepted during a rotation. */
  readonly secret: string | readonly string[];
  readonly toleranceSeconds?: number;
  readonly maxBodyBytes?: number;
  /** Bytes of request bodies all mirror calls hold at once; none = only `maxBodyBytes`. */
  readonly bodyBudget?: BodyBudget;
  /** Seen nonces (replay protection); the bridge uses Redis, the default is this process's memory. */
  readonly nonces?: NonceStore;
  /** Called with the results of every accepted request (metrics). */
  readonly onResults?: (results: readonly MirrorResult[]) => void;
  /**
   * Called once per event every target confirmed, with the seconds from the event's `time` (at
   * the edge) to the last confirmation (the mirror's delay; 0 when the edge clock was ahead).
   */
  readonly onAppended?: (delaySeconds: number) => void;
  /** Called once per target per request that gave it events (per-target metrics). */
  readonly onTarget?: (report: TargetReport) => void;
}

/**
 * A full batch of the largest events the producer accepts (100 × ~128 kB) must fit, or the
 * Worker would dead-letter a legitimate batch on a 413.
 */
export const DEFAULT_MIRROR_MAX_BODY_BYTES = 16 * 1_048_576;

const requestSchema = z.object({ events: z.array(z.unknown()).min(1).max(MIRROR_MAX_EVENTS) });

/**
 * The attributes every CloudEvent must carry (envelope validation happened at the edge; this is a
 * sanity check): `specversion` "1.0" and non-empty `id`, `source`, `type` and `time` strings.
 * Checked by hand rather than with a schema: it runs for every event of every batch, and a
 * schema's parse copies each event (a tenth of the route's own CPU in a profile).
 */
function isCloudEvent(candidate: unknown): candidate is CloudEventRecord {
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) return false;
  const event = candidate as Record<string, unknown>;
  return (
    event.specversion === "1.0" &&
    nonEmpty(event.id) &&
    nonEmpty(event.source) &&
    nonEmpty(event.type) &&
    nonEmpty(event.time)
  );
}

function nonEmpty(value: unknown): boolean {
  return typeof value === "string" && value !== "";
}

/**
 * The HMAC check of `verifyMirrorRequest` (shared/src/mirror-signature.ts: HMAC-SHA256 over
 * `${timestamp}.${nonce}.${body}` against every accepted secret, compared in constant time) done
 * with node:crypto over the body's bytes as they arrived: no decoding to text and re-encoding,
 * no Web Crypto key import per request. Same bytes as the signer's: it signs the UTF-8 of the
 * text it sends.
 */
function signatureMatches(
  secrets: readonly string[],
  check: { timestamp: number; nonce: string },
  signature: string,
  body: Uint8Array,
): boolean {
  const given = Buffer.from(signature.slice(signature.indexOf("=") + 1), "hex");
  const prefix = `${check.timestamp}.${check.nonce}.`;
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(prefix, "utf8").update(body).digest();
    matched = (expected.length === given.length && timingSafeEqual(expected, given)) || matched;
  }
  return matched;
}

/**
 * `POST /v1/mirror` (wire format in shared/src/mirror-protocol.ts). In this order, so that an
 * unsigned request costs no body bytes and a forged one at most `maxBodyBytes`:
 * 1. the signature headers: present, well-formed, timestamp within the tolerance (else 401);
 * 2. the body, read on the stream up to `maxBodyBytes` (413) within the area's budget (429);
 * 3. the HMAC over timestamp, nonce and raw body against every accepted secret (401);
 * 4. the body: `{events: [1..100]}` (400);
 * 5. the nonce, claimed once in the nonce store: a replay is 409 `conflict`, a store that cannot
 *    answer 503 (fail closed);
 * 6. the batch: each event handed to every mirror target whose topic mapping keeps it
 *    (`targets/`), one result per event in request order (503 + Retry-After up front when a
 *    target's queue is full).
 * An event is `acked` only after every target that keeps it confirmed it (each target's guarantee
 * is in targets/mirror-target.ts); otherwise it is `failed` with the first target's error (named),
 * retryable only when every failure is. A retried batch reaches every target again: targets that
 * already hold an event see it again with the same CloudEvents `id` (JetStream and Redis Streams
 * drop it, Kafka and RabbitMQ keep a second copy). An event no target keeps is `acked` without a
 * topic: there is nothing to mirror, and the Worker must not retry it. The result's `topic`,
 * `partition` and `offset` are the first target's receipt (Kafka's partition and offset).
 */
export function createMirrorRoute(options: MirrorRouteOptions): Hono {
  const ingest = mirrorIngest(options);
  const app = new Hono();
  app.onError((error, c) => {
    const answer = mirrorError(error, c.req.path, c.req.header("x-request-id"));
    if (answer.retryAfter !== undefined) c.header("retry-after", answer.retryAfter);
    return c.json(answer.body, answer.status as ContentfulStatusCode);
  });
  app.post(MIRROR_PATH, async (c) => {
    const results = await ingest({
      header: (name) => c.req.header(name),
      body: (limits) => readBoundedBody(c, limits),
    });
    return c.json({ results });
  });
  return app;
}

/**
 * `POST /v1/mirror` as a lean route (`bridges/http/lean-routes.ts`) at `path` (the mount prefix
 * plus `MIRROR_PATH`), in front of the Hono app that `createMirrorRoute` makes: the same checks in
 * the same order and the same answers (the tests compare the two). Give it the same `options`
 * object as `createMirrorRoute` so both share the nonce store and the body budget; without an
 * explicit `nonces`, give both the same `MemoryNonceStore`.
 */
export function createMirrorLeanRoute(options: MirrorRouteOptions, path: string = MIRROR_PATH): LeanRoute {
  const ingest = mirrorIngest(options);
  return {
    method: "POST",
    path,
    async handle(request) {
      return { status: 200, json: JSON.stringify({ results: await ingest(request) }) };
    },
    fail(error, request) {
      const answer = mirrorError(error, request.path, request.header("x-request-id"));
      return {
        status: answer.status,
        json: JSON.stringify(answer.body),
        ...(answer.retryAfter === undefined ? {} : { headers: { "retry-after": answer.retryAfter } }),
      };
    },
  };
}

/** What the mirror needs of a request: its headers (as `Headers.get` gives them) and a bounded body read. */
interface MirrorRequest {
  header(name: string): string | undefined;
  body(limits: BodyLimits): Promise<Uint8Array>;
}

/** The mirror's work for one request, from headers to results; throws the refusals (rendered by `mirrorError`). */
function mirrorIngest(options: MirrorRouteOptions): (request: MirrorRequest) => Promise<MirrorResult[]> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MIRROR_MAX_BODY_BYTES;
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nonces = options.nonces ?? defaultNonces(options);
  const targets: readonly MirrorTarget[] =
    "targets" in options
      ? options.targets
      : [new KafkaTarget({ producer: options.producer, mapping: options.mapping, mode: options.mode })];
  const secrets = typeof options.secret === "string" ? [options.secret] : [...options.secret];
  const limits = { maxBytes: maxBodyBytes, budget: options.bodyBudget };

  return async (request) => {
    const headers = { get: (name: string) => request.header(name) ?? null };
    const first = checkMirrorHeaders(headers, { toleranceSeconds });
    if (!first.ok) throw new EdgebusError("unauthorized", `mirror signature refused: ${first.reason}`);
    const raw = await request.body(limits);
    // The headers were read before the body: checked again, the timestamp against the clock now.
    const check = checkMirrorHeaders(headers, { toleranceSeconds });
    if (!check.ok) throw new EdgebusError("unauthorized", `mirror signature refused: ${check.reason}`);
    if (!signatureMatches(secrets, check, request.header(SIGNATURE_HEADER) as string, raw)) {
      throw new EdgebusError("unauthorized", "mirror signature refused: signature mismatch");
    }
    // Parsed and planned in a plain function: this frame then waits for the targets holding the
    // plan, not the parsed body (a suspended frame keeps every value it held), so each target can
    // let go of an event once it has encoded it (see `RecordProducer.produce`).
    const plan = planFromBody(raw, targets);
    // Claimed only for a batch that can be written (a refused one leaves nothing behind), and
    // kept past the whole window in which its timestamp is accepted by any bridge's clock.
    if (!(await nonces.claim(check.nonce, 2 * toleranceSeconds + 60))) {
      throw new EdgebusError("conflict", "mirror request refused: this nonce was already used (a replayed request)");
    }
    const saturated = targets.find((t) => t.saturated);
    if (saturated) {
      const what = saturated.kind === "kafka" ? "the bridge's Kafka producer queue" : `mirror target ${saturated.name}`;
      throw new EdgebusError("upstream_unavailable", `${what} is full; retry shortly`, { retryAfterSeconds: 1 });
    }
    const results = await runMirror(plan, targets, options);
    options.onResults?.(results);
    return results;
  };
}

/**
 * The default nonce store when `options.nonces` is absent: one per options object, so that the
 * Hono route and the lean route made from the same options refuse each other's replays.
 */
const defaultNonceStores = new WeakMap<object, NonceStore>();
function defaultNonces(options: MirrorRouteOptions): NonceStore {
  let store = defaultNonceStores.get(options);
  if (store === undefined) {
    store = new MemoryNonceStore();
    defaultNonceStores.set(options, store);
  }
  return store;
}

/**
 * The body's events: `{events: [1..MIRROR_MAX_EVENTS]}` checked by hand in the common case (the
 * schema's parse copies the array); the schema explains a refusal.
 */
function eventsOf(parsed: unknown): readonly unknown[] {
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    const events = (parsed as { events?: unknown }).events;
    if (Array.isArray(events) && events.length >= 1 && events.length <= MIRROR_MAX_EVENTS) return events;
  }
  const body = requestSchema.safeParse(parsed);
  if (!body.success) {
    throw new EdgebusError("bad_request", `body must be {"events": [1..${MIRROR_MAX_EVENTS} CloudEvents]}`, {
      details: body.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return body.data.events;
}

/** The body's events (a refused body throws) planned for `targets`. */
function planFromBody(raw: Uint8Array, targets: readonly MirrorTarget[]): MirrorPlan {
  let parsed: unknown;
  try {
    // Invalid UTF-8 becomes U+FFFD, as Request.text() does.
    parsed = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8"));
  } catch {
    throw new EdgebusError("malformed_json", "request body is not valid JSON");
  }
  return planMirror(eventsOf(parsed), targets);
}

/**
 * One request's events planned: the results known already (events refused or kept by no target),
 * each target's deliveries (handed over once, then no longer referenced here) and what the
 * results of the other events need once the targets answered.
 */
interface MirrorPlan {
  readonly results: MirrorResult[];
  /** The events at least one target keeps. */
  readonly kept: { readonly index: number; readonly id: string; readonly source: string; readonly time: string }[];
  readonly perTarget: {
    deliveries: MirrorDelivery[] | undefined;
    /** Each delivery's event index in the request. */
    readonly indexes: number[];
    /** Per event index, the topic this target was given it for. */
    readonly topics: (string | undefined)[];
  }[];
}

function planMirror(events: readonly unknown[], targets: readonly MirrorTarget[]): MirrorPlan {
  const results: MirrorResult[] = new Array(events.length);
  const kept: MirrorPlan["kept"][number][] = [];
  const perTarget: MirrorPlan["perTarget"] = targets.map(() => ({
    deliveries: [],
    indexes: [],
    topics: new Array(events.length),
  }));
  // Per event type, the destination topic at each target (null: not kept) or why the type has
  // none: worked out once per request, since a batch's events mostly share a type.
  const routes = new Map<string, (string | null)[] | EdgebusError>();
  const routeOf = (type: string): (string | null)[] | EdgebusError => {
    let route = routes.get(type);
    if (route === undefined) {
      try {
        const edgeTopic = edgeTopicOf(type);
        route = targets.map((target) => target.mapping.map(edgeTopic));
      } catch (error) {
        route = new EdgebusError("invalid_envelope", (error as Error).message);
      }
      routes.set(type, route);
    }
    return route;
  };
  events.forEach((candidate, index) => {
    if (!isCloudEvent(candidate)) {
      results[index] = failed(
        identify(candidate),
        new EdgebusError("invalid_envelope", "not a CloudEvents 1.0 event (specversion, id, source, type, time)"),
      );
      return;
    }
    const event = candidate;
    const route = routeOf(event.type);
    if (route instanceof Error) {
      results[index] = failed({ id: event.id, source: event.source }, route);
      return;
    }
    let keptBySome = false;
    for (let t = 0; t < targets.length; t++) {
      const topic = route[t];
      if (topic === null || topic === undefined) continue;
      keptBySome = true;
      const mine = perTarget[t] as MirrorPlan["perTarget"][number];
      mine.deliveries?.push({ event, topic });
      mine.indexes.push(index);
      mine.topics[index] = topic;
    }
    if (!keptBySome) results[index] = { id: event.id, source: event.source, status: "acked" };
    else kept.push({ index, id: event.id, source: event.source, time: event.time });
  });
  return { results, kept, perTarget };
}

/**
 * Hands target `t` its deliveries and forgets them, so that only the target holds the events while
 * it waits for its broker. A plain function: the caller's suspended frame never held them.
 */
function handOver(plan: MirrorPlan, t: number, target: MirrorTarget): Promise<DeliveryOutcome[]> | undefined {
  const mine = plan.perTarget[t] as MirrorPlan["perTarget"][number];
  const deliveries = mine.deliveries;
  mine.deliveries = undefined;
  if (deliveries === undefined || deliveries.length === 0) return undefined;
  try {
    return target.deliver(deliveries);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function runMirror(
  plan: MirrorPlan,
  targets: readonly MirrorTarget[],
  options: MirrorRouteCommon,
): Promise<MirrorResult[]> {
  const { results, kept, perTarget } = plan;
  // Per target, per event index: its outcome (none where the target does not keep the event).
  const outcomes: (DeliveryOutcome | undefined)[][] = targets.map(() => new Array(results.length));
  await Promise.all(
    targets.map(async (target, t) => {
      const { indexes } = perTarget[t] as MirrorPlan["perTarget"][number];
      // Before the hand-over: a target's synchronous part (building and encoding its records) counts.
      const started = performance.now();
      const delivered = handOver(plan, t, target);
      if (delivered === undefined) return;
      let answers: DeliveryOutcome[];
      try {
        answers = await delivered;
      } catch (error) {
        answers = indexes.map(() => ({ ok: false as const, error: toEdgebusError(error) }));
      }
      options.onTarget?.({ target, outcomes: answers, seconds: (performance.now() - started) / 1000 });
      const mine = outcomes[t] as (DeliveryOutcome | undefined)[];
      indexes.forEach((index, i) => {
        mine[index] = answers[i] ?? { ok: false as const, error: new EdgebusError("internal", "no outcome") };
      });
    }),
  );

  const confirmedAt = Date.now();
  for (const { index, id, source, time } of kept) {
    // In target order.
    let first: DeliveryOutcome | undefined;
    const failures: { target: MirrorTarget; error: EdgebusError }[] = [];
    targets.forEach((target, t) => {
      const outcome = outcomes[t]?.[index];
      if (outcome === undefined) return;
      first ??= outcome;
      if (!outcome.ok) failures.push({ target, error: outcome.error });
    });
    const ids = { id, source };
    const receipt = first?.ok ? first.receipt : undefined;
    if (failures.length === 0) {
      const eventTime = Date.parse(time);
      if (Number.isFinite(eventTime)) options.onAppended?.(Math.max(0, (confirmedAt - eventTime) / 1000));
      results[index] = {
        ...ids,
        status: "acked",
        ...(receipt ? { topic: receipt.topic, partition: receipt.partition, offset: receipt.offset } : {}),
      };
      continue;
    }
    const { target, error } = failures[0] as { target: MirrorTarget; error: EdgebusError };
    // One target alone: its error as it is (the Kafka-only bridge's answers are unchanged).
    const message =
      targets.length > 1 && !error.message.includes(target.name) ? `${target.name}: ${error.message}` : error.message;
    const retryable = failures.every((f) => f.error.retryable);
    const failedTopic = perTarget[targets.indexOf(target)]?.topics[index];
    results[index] = {
      ...ids,
      status: "failed",
      ...(failedTopic === undefined ? {} : { topic: failedTopic }),
      error: { code: error.code, message, retryable },
    };
  }
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

/** An error as the mirror answers it: edgebus's error body, with `Retry-After` when retryable. */
function mirrorError(
  error: unknown,
  path: string,
  requestId: string | undefined,
): { status: number; body: ReturnType<typeof errorBody>; retryAfter?: string } {
  const failure = toEdgebusError(error);
  if (failure.code === "internal") log.log("error", "internal error", { path, ...errorLogFields(error) });
  return {
    status: failure.status,
    body: errorBody(failure, requestId ?? randomUUID()),
    ...(failure.retryAfterSeconds === undefined ? {} : { retryAfter: String(failure.retryAfterSeconds) }),
  };
}
