/**
 * An example consumer service of the VPS deployment (docs/deployment-vps-rabbitmq.md): reads the
 * queue the bridge's RabbitMQ target declared and bound, turns each message back into its
 * CloudEvent (the CloudEvents AMQP binding, binary or structured mode), handles it, and acks it
 * only after handling; a message it cannot read is rejected without requeue (dead-lettered when
 * the queue has a dead-letter exchange). Deduplicates redeliveries on `source` + `id` in memory
 * (a real service keeps that in its own database, in the transaction of its write).
 *
 * Standalone on purpose (only rabbitmq-client): a service team copies it.
 *
 *   RABBITMQ_URL=amqp://user:pass@127.0.0.1:5672/%2F QUEUE=permits.citizen-sync node ops/vps-rabbitmq/consumer.ts
 */
import { Connection } from "rabbitmq-client";

export interface ConsumedEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly [attribute: string]: unknown;
}

/** The message as rabbitmq-client hands it over (it already decodes text/plain and application/json bodies). */
export interface Delivery {
  readonly contentType?: string | undefined;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
  readonly body: unknown;
}

/** A delivery back into its CloudEvent, or why it is not one. */
export function decodeDelivery(message: Delivery): { event: ConsumedEvent } | { error: string } {
  const bytes = Buffer.isBuffer(message.body)
    ? message.body
    : typeof message.body === "string"
      ? Buffer.from(message.body)
      : message.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(JSON.stringify(message.body));
  const media = message.contentType?.split(";")[0]?.trim().toLowerCase();
  let event: Record<string, unknown>;
  if (media === "application/cloudevents+json") {
    try {
      event = JSON.parse(bytes.toString("utf8"));
    } catch {
      return { error: "structured message whose body is not JSON" };
    }
  } else {
    event = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      if (name.toLowerCase().startsWith("cloudevents:")) event[name.slice("cloudevents:".length)] = value;
    }
    if (typeof event.specversion !== "string") return { error: "not a CloudEvent: no specversion" };
    if (message.contentType !== undefined) event.datacontenttype = message.contentType;
    if (bytes.byteLength > 0 || message.contentType !== undefined) {
      if (media === undefined || media === "application/json" || media.endsWith("+json")) {
        try {
          event.data = JSON.parse(bytes.toString("utf8"));
        } catch {
          return { error: "JSON data that does not parse" };
        }
      } else if (media.startsWith("text/")) {
        event.data = bytes.toString("utf8");
      } else {
        event.data_base64 = bytes.toString("base64");
      }
    }
  }
  return checked(event);
}

function checked(event: Record<string, unknown>): { event: ConsumedEvent } | { error: string } {
  for (const name of ["specversion", "id", "source", "type"]) {
    if (typeof event[name] !== "string") return { error: `not a CloudEvent: no ${name}` };
  }
  return { event: event as ConsumedEvent };
}

async function main(): Promise<void> {
  const url = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
  const queue = process.env.QUEUE ?? "permits.citizen-sync";
  const rabbit = new Connection(url);
  rabbit.on("error", (error) => console.error(`consumer: RabbitMQ: ${(error as Error).message} (reconnecting)`));
  const seen = new Set<string>();
  // passive: the bridge declares the queue and its bindings; this service only reads it.
  const consumer = rabbit.createConsumer(
    { queue, queueOptions: { passive: true }, qos: { prefetchCount: 20 }, requeue: false },
    async (message) => {
      const decoded = decodeDelivery(message);
      if ("error" in decoded) throw new Error(decoded.error); // rejected, not requeued
      const { event } = decoded;
      const key = `${event.source} ${event.id}`;
      if (seen.has(key)) return; // a redelivery: acked, not handled twice
      // The service's own work goes here (update its table, call its API, …).
      console.log(
        JSON.stringify({
          consumer: queue,
          routingKey: message.routingKey,
          type: event.type,
          id: event.id,
          data: event.data,
        }),
      );
      seen.add(key);
    },
  );
  consumer.on("error", (error) => console.error(`consumer: ${(error as Error).message}`));
  const stop = async () => {
    await consumer.close();
    await rabbit.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.error(`consumer: reading ${queue}`);
}

if (process.argv[1]?.endsWith("consumer.ts")) {
  main().catch((error: unknown) => {
    console.error(`consumer: ${(error as Error).message}`);
    process.exit(1);
  });
}
