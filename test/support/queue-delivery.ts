/**
 * Queue deliveries for consumer Worker tests (Web APIs only: runs inside workerd): messages in
 * the shape workerd hands a `queue()` handler, a batch that records what the consumer did to
 * each message, and an env whose DLQ binding records every dead letter before passing it on to
 * the real binding.
 */
import type { QueueMessage } from "#shared/consumers/consumer-message.ts";
import type { DeadLetterMessage } from "#shared/consumers/dead-letter-message.ts";

let messageSeq = 0;

/** A delivered message before ack/retry are attached; ids are unique across the test run. */
export function queueMessage(body: unknown, attempts = 1) {
  return { id: `msg-${++messageSeq}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body };
}

/** A batch from `queue` whose messages record acks and retries (with their delaySeconds). */
export function recordingBatch(queue: string, messages: ReturnType<typeof queueMessage>[]) {
  const acked = new Set<string>();
  const retried = new Map<string, number | undefined>();
  const batch = {
    queue,
    messages: messages.map(
      (m): QueueMessage => ({
        ...m,
        ack: () => acked.add(m.id),
        retry: (options) => retried.set(m.id, options?.delaySeconds),
      }),
    ),
  };
  return { batch, acked, retried };
}

interface DeadLetterBinding {
  send(body: DeadLetterMessage, options?: QueueSendOptions): Promise<unknown>;
}

/**
 * `env` with `DEAD_LETTER_QUEUE` wrapped: every letter is recorded in `letters`, then sent to the
 * real binding (`env.DEAD_LETTER_QUEUE`). `overrides` replace env entries (a broken binding…).
 */
export function recordingDeadLetters<Env extends object>(env: Env, overrides: Record<string, unknown> = {}) {
  const letters: DeadLetterMessage[] = [];
  const dlq = (env as { DEAD_LETTER_QUEUE?: DeadLetterBinding }).DEAD_LETTER_QUEUE;
  if (!dlq) throw new Error("the Worker's env has no DEAD_LETTER_QUEUE binding (wrangler.toml [[queues.producers]])");
  return {
    letters,
    env: {
      ...env,
      DEAD_LETTER_QUEUE: {
        async send(body: DeadLetterMessage, options?: QueueSendOptions) {
          letters.push(body);
          return dlq.send(body, options);
        },
      },
      ...overrides,
    },
  };
}

/** What workerd returns from a service binding's `queue()` (service_binding_extra_handlers). */
export interface QueueDispatch {
  queue(
    queue: string,
    messages: { id: string; timestamp: Date; attempts: number; body: unknown }[],
  ): Promise<{ outcome: string; explicitAcks: string[]; retryMessages: { msgId: string; delaySeconds?: number }[] }>;
}

/**
 * The Worker under test (`exports` of `cloudflare:workers`) through workerd's real queue
 * dispatch, which reports the acks and retries (with delaySeconds) the handler made.
 */
export function queueWorker(exports: unknown): QueueDispatch {
  return (exports as { default: QueueDispatch }).default;
}
