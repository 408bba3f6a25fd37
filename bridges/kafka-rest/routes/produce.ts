import type { Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import type { RecordToProduce } from "../../kafka/record.ts";
import { SCOPE } from "../basic-auth.ts";
import type { GatewayContext, GatewayEnv } from "../gateway-context.ts";
import { readJson } from "../read-json.ts";
import { badRequest } from "../upstash-errors.ts";
import { oneOrMany, type ProduceMessage, produceMessage, produceMessagesFast, topicProduceMessage } from "../wire.ts";

// Built once: a schema per request costs more than checking a small body with it.
const messagesWithTopics = oneOrMany(produceMessage);
const messagesWithoutTopics = oneOrMany(topicProduceMessage);

/** `[GET|POST] /produce`, `[GET|POST] /produce/{topic}`, `GET /produce/{topic}/{message}?key=`. */
export function registerProduce(app: Hono<GatewayEnv>, ctx: GatewayContext): void {
  const { limits } = ctx;
  const body = { maxBytes: limits.maxBodyBytes, budget: ctx.bodyBudget };
  const withTopics = { ...body, fast: (parsed: unknown) => produceMessagesFast(parsed, true) };
  const withoutTopics = { ...body, fast: (parsed: unknown) => produceMessagesFast(parsed, false) };
  const produce = async (messages: readonly ProduceMessage[]) => {
    if (messages.length === 0) throw badRequest("no messages to produce");
    if (messages.length > limits.maxMessagesPerProduce) {
      throw new EdgebusError("payload_too_large", `at most ${limits.maxMessagesPerProduce} messages per request`);
    }
    const receipts = await ctx.producer.produce(messages.map(toRecord));
    ctx.onProduced?.(receipts.length);
    return receipts.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp }));
  };

  // The client sends a single object for produce() and still expects an array back. The docs
  // allow GET with the same body (`curl -X GET -d …`).
  app.on(["GET", "POST"], "/produce", async (c) => {
    const messages = (await readJson(c, messagesWithTopics, withTopics)) ?? [];
    c.get(SCOPE).requireProduce(messages.map((m) => m.topic));
    return c.json(await produce(messages));
  });
  // Documented forms the JS client does not use: a topic in the path, one message or many.
  app.on(["GET", "POST"], "/produce/:topic", async (c) => {
    const topic = c.req.param("topic");
    c.get(SCOPE).requireProduce([topic]);
    const messages = (await readJson(c, messagesWithoutTopics, withoutTopics)) ?? [];
    return c.json(await produce(messages.map((m) => ({ ...m, topic }))));
  });
  app.get("/produce/:topic/:message", async (c) => {
    const topic = c.req.param("topic");
    c.get(SCOPE).requireProduce([topic]);
    const key = c.req.query("key");
    const [receipt] = await produce([{ topic, value: c.req.param("message"), ...(key === undefined ? {} : { key }) }]);
    return c.json(receipt);
  });
}

function toRecord(message: ProduceMessage): RecordToProduce {
  return {
    topic: message.topic,
    value: message.value,
    ...(message.key === undefined ? {} : { key: message.key }),
    ...(message.partition === undefined ? {} : { partition: message.partition }),
    ...(message.timestamp === undefined ? {} : { timestamp: message.timestamp }),
    ...(message.headers === undefined ? {} : { headers: message.headers }),
  };
}
