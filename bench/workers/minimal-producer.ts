/**
 * The producer benchmark's second baseline: the least a producer must do. The same two publish
 * routes read the body, parse the JSON, pick the queues with the same routing rules and send the
 * events with one `sendBatch` per queue, exactly the queue sends the producer makes: each message
 * the event's JSON text (`contentType: "text"`, serialised once per event for all its queues),
 * which is what consumers read. No API key,
 * no envelope checks, no catalogue validation, no dedup, no rate limit, no receipts. The
 * producer ÷ this ratio is the cost of everything that makes edgebus safe to call.
 */
import { Hono } from "hono";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { PUBLISHER_KEY_ATTRIBUTE } from "#shared/envelope/extensions.ts";
import { QUEUE_BODY_CONTENT_TYPE } from "#shared/envelope/queue-message.ts";
import { routeEvent } from "#shared/routing/router.ts";
import { governmentPlugin } from "../../schemas/index.ts";

type Env = Record<string, Queue>;

/** Queue name → the producer's binding for it (root wrangler.toml). */
const BINDINGS: Record<string, string> = {
  "permits-citizen-sync": "Q_PERMITS_CITIZEN_SYNC",
  "revenue-citizen-sync": "Q_REVENUE_CITIZEN_SYNC",
  notifications: "Q_NOTIFICATIONS",
  "kafka-mirror": "Q_KAFKA_MIRROR",
  archive: "Q_ARCHIVE",
};

/**
 * What the minimal producer sends per event. `input`: the event as it came (the baseline). `producer-sized`:
 * the event plus the attributes the producer's normalisation and publisher stamp add (`time`,
 * `datacontenttype`, `partitionkey`, `subject`, `edgebuskeyid`), so each message is as large as the
 * producer's — what `producer-stages.ts` uses to tell the cost of larger messages in the local queues
 * from the producer's own work. Not validation: the fields are copied, not checked.
 */
export type MessageShape = "input" | "producer-sized";

function producerSized(event: CloudEventRecord, time: string): CloudEventRecord {
  const entity = String((event.data as { id?: unknown } | undefined)?.id);
  return {
    ...event,
    [PUBLISHER_KEY_ATTRIBUTE]: "bench",
    time: event.time ?? time,
    datacontenttype: "application/json",
    partitionkey: entity,
    subject: entity,
  };
}

async function send(env: Env, events: readonly CloudEventRecord[], shape: MessageShape): Promise<void> {
  const perQueue = new Map<string, { body: string; contentType: typeof QUEUE_BODY_CONTENT_TYPE }[]>();
  const time = shape === "input" ? "" : new Date().toISOString();
  for (const event of events) {
    // The message the producer sends: the event's JSON text, one string for all its queues.
    const message = {
      body: JSON.stringify(shape === "input" ? event : producerSized(event, time)),
      contentType: QUEUE_BODY_CONTENT_TYPE,
    };
    for (const queue of routeEvent(governmentPlugin.routes, event, { kafkaEnabled: false }).queues) {
      const messages = perQueue.get(queue) ?? [];
      messages.push(message);
      perQueue.set(queue, messages);
    }
  }
  await Promise.all(
    [...perQueue].map(([queue, messages]) => (env[BINDINGS[queue] ?? ""] as Queue).sendBatch(messages)),
  );
}

/** The minimal producer's app, sending messages of `shape`. */
export function minimalProducer(shape: MessageShape): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>();

  app.post("/v1/events", async (c) => {
    const event = JSON.parse(await c.req.text()) as CloudEventRecord;
    await send(c.env, [event], shape);
    return c.json({ id: event.id, status: "accepted" }, 202);
  });

  app.post("/v1/events/batch", async (c) => {
    const events = JSON.parse(await c.req.text()) as CloudEventRecord[];
    await send(c.env, events, shape);
    return c.json({ accepted: events.length }, 200);
  });
  return app;
}

export default minimalProducer("input");
