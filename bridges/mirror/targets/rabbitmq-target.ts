import { Connection, type Publisher } from "rabbitmq-client";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields, withoutCredentials } from "#shared/log.ts";
import { topicForType } from "#shared/names.ts";
import { withDeadline } from "../../deadline.ts";
import type { BindingMode } from "../cloud-event-binding.ts";
import type { TopicMapping } from "../topic-mapping.ts";
import { toAmqpMessage } from "./bindings.ts";
import {
  type ConnectionProblems,
  connectionProblems,
  type DeliveryOutcome,
  destinationType,
  type MirrorDelivery,
  type MirrorTarget,
  unavailable,
} from "./mirror-target.ts";

const log = createLogger({ component: "mirror-rabbitmq" });

/** AMQP 0-9-1 limits a routing key (a short string) to 255 bytes. */
const MAX_ROUTING_KEY_BYTES = 255;

export interface RabbitQueueDeclaration {
  readonly name: string;
  /** `quorum` (replicated, the RabbitMQ default for data safety) or `classic`. */
  readonly type: "quorum" | "classic";
  /** Topic-exchange patterns (`*` one word, `#` any words) this queue is bound with. */
  readonly bindingKeys: readonly string[];
}

export interface RabbitMqTargetOptions {
  readonly name?: string;
  /** `amqp://user:password@host:5672/vhost` (or `amqps://`). */
  readonly url: string;
  /** The durable topic exchange (declared at connect). */
  readonly exchange: string;
  readonly mode: BindingMode;
  readonly mapping: TopicMapping;
  /** Queues (and their bindings) declared at every (re)connect; none by default. */
  readonly queues: readonly RabbitQueueDeclaration[];
  /** Largest message body; larger events fail, not retryable (RabbitMQ's own `max_message_size` may be lower). */
  readonly maxMessageBytes: number;
  /** How long a publish may wait for a channel and for the broker's confirm. */
  readonly timeoutMs: number;
}

/**
 * Mirror into RabbitMQ with rabbitmq-client: a durable topic exchange (`edgebus` by default),
 * routing key = the event type (topic part renamed by the mapping), persistent messages (delivery
 * mode 2), the CloudEvents AMQP binding (`bindings.ts`), `message-id` = the event id.
 *
 * Confirms: the publisher channel is in confirm mode, and an event is `ok` only after the
 * broker's `basic.ack` for it (a `basic.nack`, a closed channel or the timeout fail it, retryable).
 * One channel publishes a batch in input order, so each queue receives one key's events in order.
 * An event that no queue binding matches is confirmed and dropped by RabbitMQ (AMQP semantics):
 * declare the queues that must receive events (`queues`) before events flow.
 *
 * Reconnects by itself: the client reconnects with backoff and declares the exchange, queues and
 * bindings again; while it is away deliveries fail after `timeoutMs` and the Worker retries.
 */
export class RabbitMqTarget implements MirrorTarget {
  readonly kind = "rabbitmq" as const;
  readonly name: string;
  readonly mapping: TopicMapping;
  readonly #options: RabbitMqTargetOptions;
  readonly #connection: Connection;
  readonly #publisher: Publisher;
  readonly #problems: ConnectionProblems;

  constructor(options: RabbitMqTargetOptions) {
    this.name = options.name ?? "rabbitmq";
    this.mapping = options.mapping;
    this.#options = options;
    this.#connection = new Connection({
      url: options.url,
      connectionName: "edgebus-bridge mirror",
      acquireTimeout: options.timeoutMs,
      connectionTimeout: options.timeoutMs,
      retryLow: 250,
      retryHigh: 5000,
    });
    this.#problems = connectionProblems(log, "RabbitMQ", this.name, options.url);
    this.#connection.on("error", (error: unknown) => this.#problems.failed(error));
    this.#connection.on("connection", () => {
      this.#problems.connected();
      // At once, not at the first publish: consumers' queues exist (and are bound) before events flow.
      void this.#declare();
    });
    this.#publisher = this.#connection.createPublisher({
      confirm: true,
      maxAttempts: 1,
      exchanges: [{ exchange: options.exchange, type: "topic", durable: true }],
      queues: options.queues.map((q) => ({
        queue: q.name,
        durable: true,
        ...(q.type === "quorum" ? { arguments: { "x-queue-type": "quorum" } } : {}),
      })),
      queueBindings: options.queues.flatMap((q) =>
        q.bindingKeys.map((routingKey) => ({ queue: q.name, exchange: options.exchange, routingKey })),
      ),
    });
  }

  /** The exchange, the queues and their bindings (idempotent; the publisher declares them again on its channel). */
  async #declare(): Promise<void> {
    const { exchange, queues } = this.#options;
    try {
      await this.#connection.exchangeDeclare({ exchange, type: "topic", durable: true });
      for (const q of queues) {
        await this.#connection.queueDeclare({
          queue: q.name,
          durable: true,
          ...(q.type === "quorum" ? { arguments: { "x-queue-type": "quorum" } } : {}),
        });
        for (const routingKey of q.bindingKeys)
          await this.#connection.queueBind({ queue: q.name, exchange, routingKey });
      }
    } catch (error) {
      log.log("warn", "RabbitMQ declarations failed (retried at the next publish and reconnect)", {
        destination: this.name,
        ...errorLogFields(error),
      });
    }
  }

  get saturated(): boolean {
    return false;
  }

  get connected(): boolean {
    return this.#connection.ready;
  }

  async deliver(deliveries: readonly MirrorDelivery[]): Promise<DeliveryOutcome[]> {
    // Every publish is started before any is awaited: one channel sends them in this order.
    const pending = deliveries.map(async ({ event, topic }): Promise<DeliveryOutcome> => {
      const routingKey = destinationType(event, topicForType(event.type), topic);
      if (Buffer.byteLength(routingKey) > MAX_ROUTING_KEY_BYTES) {
        return {
          ok: false,
          error: new EdgebusError(
            "invalid_envelope",
            `mirror target ${this.name}: routing key "${routingKey.slice(0, 40)}…" is longer than ${MAX_ROUTING_KEY_BYTES} bytes`,
          ),
        };
      }
      const message = toAmqpMessage(event, this.#options.mode);
      if (message.body.byteLength > this.#options.maxMessageBytes) {
        return {
          ok: false,
          error: new EdgebusError(
            "payload_too_large",
            `mirror target ${this.name}: the message body is ${message.body.byteLength} bytes, over maxMessageBytes ${this.#options.maxMessageBytes}`,
          ),
        };
      }
      try {
        await withTimeout(
          this.#publisher.send(
            {
              exchange: this.#options.exchange,
              routingKey,
              durable: true,
              messageId: event.id,
              appId: "edgebus-bridge",
              headers: message.headers,
              ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
            },
            message.body,
          ),
          this.#options.timeoutMs,
        );
        return { ok: true, receipt: { topic: routingKey } };
      } catch (error) {
        return { ok: false, error: unavailable(this.name, `not confirmed: ${(error as Error).message}`, error) };
      }
    });
    return Promise.all(pending);
  }

  async probe(): Promise<void> {
    if (!this.#connection.ready) {
      throw new Error(
        `not connected to ${withoutCredentials(this.#options.url)}${this.#problems.lastError ? `: ${this.#problems.lastError}` : ""}`,
      );
    }
  }

  async close(): Promise<void> {
    await this.#publisher.close().catch(() => undefined);
    await this.#connection.close().catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withDeadline(promise, ms, () => new Error(`no confirm within ${ms} ms`));
}
