import type { Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import { readBoundedText } from "../../http/bounded-body.ts";
import type { RecordReceipt } from "../../kafka/record.ts";
import { type CredentialScope, SCOPE } from "../basic-auth.ts";
import type { GatewayContext, GatewayEnv } from "../gateway-context.ts";
import { parseJsonBody, readJson } from "../read-json.ts";
import { badRequest } from "../upstash-errors.ts";
import { oneOrMany, type ProduceMessage, produceMessage, produceMessagesFast, topicProduceMessage } from "../wire.ts";

// Built once: a schema per request costs more than checking a small body with it.
const messagesWithTopics = oneOrMany(produceMessage);
const messagesWithoutTopics = oneOrMany(topicProduceMessage);
const fastWithTopics = (parsed: unknown) => produceMessagesFast(parsed, true);
const fastWithoutTopics = (parsed: unknown) => produceMessagesFast(parsed, false);
const JSON_TYPE = { "Content-Type": "application/json" };

/**
 * `POST /produce` (what `@upstash/kafka`'s `produce` and `produceMany` send) from the body's text
 * to the answer's JSON: the messages checked against the protocol, the caller's scope for every
 * topic, then the records produced (answered only after Kafka confirmed every one). Both the Hono
 * route below and the lean route (`lean-produce.ts`) answer with this, so their answers match.
 */
export function produceFromBody(ctx: GatewayContext): (scope: CredentialScope, text: string) => Promise<string> {
  const produce = produceMessages(ctx);
  // Not `async`: a refusal still arrives as a rejection, and neither the text nor the parsed
  // messages stay referenced by a suspended frame while Kafka answers (see `RecordProducer.produce`).
  return (scope, text) => {
    try {
      const messages = parseJsonBody(text, messagesWithTopics, { fast: fastWithTopics }) ?? [];
      scope.requireProduce(topicsOf(messages));
      return produce(messages).then(receiptsJson);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/** `[GET|POST] /produce`, `[GET|POST] /produce/{topic}`, `GET /produce/{topic}/{message}?key=`. */
export function registerProduce(app: Hono<GatewayEnv>, ctx: GatewayContext): void {
  const { limits } = ctx;
  const body = { maxBytes: limits.maxBodyBytes, budget: ctx.bodyBudget };
  const withoutTopics = { ...body, fast: fastWithoutTopics };
  const produce = produceMessages(ctx);
  const fromBody = produceFromBody(ctx);

  // The client sends a single object for produce() and still expects an array back. The docs
  // allow GET with the same body (`curl -X GET -d …`).
  app.on(["GET", "POST"], "/produce", async (c) => {
    const scope = c.get(SCOPE);
    const text = await readBoundedText(c, body);
    return c.body(await fromBody(scope, text), 200, JSON_TYPE);
  });
  // Documented forms the JS client does not use: a topic in the path, one message or many.
  app.on(["GET", "POST"], "/produce/:topic", async (c) => {
    const topic = c.req.param("topic");
    c.get(SCOPE).requireProduce([topic]);
    const messages = (await readJson(c, messagesWithoutTopics, withoutTopics)) ?? [];
    return c.body(receiptsJson(await produce(messages.map((m) => ({ ...m, topic })))), 200, JSON_TYPE);
  });
  app.get("/produce/:topic/:message", async (c) => {
    const topic = c.req.param("topic");
    c.get(SCOPE).requireProduce([topic]);
    const key = c.req.query("key");
    const [receipt] = await produce([{ topic, value: c.req.param("message"), ...(key === undefined ? {} : { key }) }]);
    return c.json(receipt && receiptObject(receipt));
  });
}

/**
 * The count limits, then the producer. The checked messages are the records as they are (their
 * fields are `RecordToProduce`'s; unknown fields are ignored by the producer): no copy per message.
 */
function produceMessages(ctx: GatewayContext): (messages: readonly ProduceMessage[]) => Promise<RecordReceipt[]> {
  const { limits } = ctx;
  const produced = (receipts: RecordReceipt[]) => {
    ctx.onProduced?.(receipts.length);
    return receipts;
  };
  // Not `async`, for the reason given in `produceFromBody`.
  return (messages) => {
    if (messages.length === 0) return Promise.reject(badRequest("no messages to produce"));
    if (messages.length > limits.maxMessagesPerProduce) {
      return Promise.reject(
        new EdgebusError("payload_too_large", `at most ${limits.maxMessagesPerProduce} messages per request`),
      );
    }
    return ctx.producer.produce(messages).then(produced);
  };
}

/** The distinct topics of `messages`, in order (a batch usually names one). */
function topicsOf(messages: readonly ProduceMessage[]): string[] {
  const topics: string[] = [];
  let last: string | undefined;
  for (const { topic } of messages) {
    if (topic === last || topics.includes(topic)) continue;
    topics.push(topic);
    last = topic;
  }
  return topics;
}

function receiptObject(r: RecordReceipt): { topic: string; partition: number; offset: number; timestamp: number } {
  return { topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp };
}

/**
 * `JSON.stringify(receipts.map(receiptObject))`, written directly: the fields are integers and a
 * topic name (usually the same one, quoted once).
 */
export function receiptsJson(receipts: readonly RecordReceipt[]): string {
  let json = "[";
  let topic: string | undefined;
  let quoted = "";
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i] as RecordReceipt;
    if (r.topic !== topic) {
      topic = r.topic;
      quoted = JSON.stringify(topic);
    }
    if (i > 0) json += ",";
    json += `{"topic":${quoted},"partition":${jsonInteger(r.partition)},"offset":${jsonInteger(r.offset)},"timestamp":${jsonInteger(r.timestamp)}}`;
  }
  return `${json}]`;
}

/** An integer as JSON writes it (`JSON.stringify` of anything else, to stay exact). */
function jsonInteger(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : JSON.stringify(n);
}
