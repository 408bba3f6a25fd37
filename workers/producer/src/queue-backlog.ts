/**
 * The backlog of each queue the producer sends to, as the Workers runtime reports it on the
 * queue's producer binding: `Queue.metrics()` → `{backlogCount, backlogBytes,
 * oldestMessageTimestamp?}` (the same object comes back in every `send` / `sendBatch` response's
 * `metadata.metrics`). Each call gets `QUEUE_METRICS_TIMEOUT_MS`; a binding without `metrics()`
 * (an older runtime, a test double), a failure or a timeout leaves that queue out of the scrape
 * (logged), never fails it.
 *
 * Local emulation (Miniflare, `wrangler dev`, the Vitest plugin) answers from its in-memory
 * broker: `backlogCount` and `backlogBytes` (JSON body bytes) of the messages waiting for their
 * batch (not those handed to the consumer or waiting out a retry delay), `oldestMessageTimestamp`
 * the enqueue time of the first of them as a `Date`, `undefined` when none waits; a `send`'s
 * answer is the backlog before that send. A queue without a local consumer keeps nothing, so it
 * always reads 0 (docs/protocols.md; test/contract/workerd/queue-metrics.workerd-test.ts).
 */
import { createLogger } from "#shared/log.ts";

/** Deadline of one `metrics()` call; the five queues are asked at once. */
export const QUEUE_METRICS_TIMEOUT_MS = 1000;

export interface QueueBacklog {
  readonly queue: string;
  readonly messages: number;
  readonly bytes: number;
  /** Now − the oldest waiting message's enqueue time; 0 when nothing waits. */
  readonly oldestAgeSeconds: number;
}

/** What `Queue.metrics()` answers; typed loosely because emulations differ in the timestamp's type. */
interface RuntimeQueueMetrics {
  readonly backlogCount?: unknown;
  readonly backlogBytes?: unknown;
  readonly oldestMessageTimestamp?: unknown;
}

const log = createLogger({ component: "producer" });

function timestampMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value;
  if (typeof value === "string") return Date.parse(value);
  return undefined;
}

/** One queue's backlog from what its binding answered, at `now` (ms since the epoch). */
export function toQueueBacklog(queue: string, metrics: RuntimeQueueMetrics, now: number): QueueBacklog | undefined {
  const { backlogCount, backlogBytes } = metrics;
  if (typeof backlogCount !== "number" || typeof backlogBytes !== "number") return undefined;
  const oldest = timestampMs(metrics.oldestMessageTimestamp);
  // An empty queue has no oldest message (`undefined`; an emulation may say 0, the epoch).
  const oldestAgeSeconds =
    backlogCount > 0 && oldest !== undefined && Number.isFinite(oldest) && oldest > 0
      ? Math.max(0, now - oldest) / 1000
      : 0;
  return { queue, messages: backlogCount, bytes: backlogBytes, oldestAgeSeconds };
}

/** Every queue's backlog, asked at once; the queues that did not answer are left out. */
export async function readQueueBacklogs(
  queues: Readonly<Record<string, unknown>>,
  { timeoutMs = QUEUE_METRICS_TIMEOUT_MS, now = () => Date.now() } = {},
): Promise<QueueBacklog[]> {
  const answers = await Promise.all(
    Object.entries(queues).map(async ([queue, binding]) => {
      const metrics = (binding as { metrics?: unknown } | null)?.metrics;
      if (typeof metrics !== "function") {
        log.log("warn", "queue backlog unavailable: the binding has no metrics()", { destination: queue });
        return undefined;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const answer = (await Promise.race([
          metrics.call(binding) as Promise<RuntimeQueueMetrics>,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ])) as RuntimeQueueMetrics;
        const backlog = toQueueBacklog(queue, answer ?? {}, now());
        if (backlog === undefined)
          log.log("warn", "queue backlog unavailable: metrics() answered without counts", { destination: queue });
        return backlog;
      } catch (thrown) {
        log.log("warn", "queue backlog unavailable", {
          destination: queue,
          error_message: thrown instanceof Error ? thrown.message : String(thrown),
        });
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return answers.filter((backlog): backlog is QueueBacklog => backlog !== undefined);
}
