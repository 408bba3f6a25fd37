import type { Context, Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import { readBoundedText } from "../../http/bounded-body.ts";
import { SCOPE } from "../basic-auth.ts";
import type { GatewayContext, GatewayEnv } from "../gateway-context.ts";
import { badRequest } from "../upstash-errors.ts";

/** Most request headers one webhook call turns into record headers; more is a 400. */
const MAX_WEBHOOK_HEADERS = 64;

/**
 * Headers HTTP itself, proxies, browsers and authentication put on a request: not the sender's
 * event data, so they do not become record headers (Upstash: "excluding standard HTTP headers").
 */
const STANDARD_HEADERS = new Set([
  "accept",
  "accept-charset",
  "accept-encoding",
  "accept-language",
  "authorization",
  "cache-control",
  "connection",
  "content-encoding",
  "content-length",
  "content-type",
  "cookie",
  "date",
  "dnt",
  "expect",
  "forwarded",
  "host",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "keep-alive",
  "max-forwards",
  "origin",
  "pragma",
  "priority",
  "proxy-authorization",
  "proxy-connection",
  "range",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "upgrade-insecure-requests",
  "user-agent",
  "via",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-proto",
  "x-real-ip",
  "x-request-id",
]);

function isStandardHeader(name: string): boolean {
  return STANDARD_HEADERS.has(name) || name.startsWith("sec-") || name.startsWith("proxy-");
}

/**
 * `[GET|POST] /webhook?topic=T` (Upstash's webhook API): the request body becomes the record's
 * value (text, within the gateway's body limit) and every request header that is not a standard
 * HTTP one becomes a record header, so senders that can only call a URL (GitHub, Stripe, …) write
 * to Kafka directly. The login comes as Basic auth or, for senders that cannot do that, as
 * `&user=…&pass=…`. The answer is the record's metadata `{topic, partition, offset, timestamp}`,
 * as for `GET /produce/{topic}/{message}`.
 */
export function registerWebhook(app: Hono<GatewayEnv>, ctx: GatewayContext): void {
  const { limits } = ctx;
  app.on(["GET", "POST"], "/webhook", async (c) => {
    const topic = c.req.query("topic");
    if (topic === undefined || topic === "") throw badRequest("the webhook needs ?topic=<topic>");
    c.get(SCOPE).requireProduce([topic]);
    const headers = eventHeaders(c);
    const value = await readBoundedText(c, { maxBytes: limits.maxBodyBytes, ...budget(ctx) });
    const [receipt] = await ctx.producer.produce([{ topic, value, ...(headers.length > 0 ? { headers } : {}) }]);
    if (receipt === undefined) throw new EdgebusError("internal", "the producer returned no receipt");
    ctx.onProduced?.(1);
    return c.json({
      topic: receipt.topic,
      partition: receipt.partition,
      offset: receipt.offset,
      timestamp: receipt.timestamp,
    });
  });
}

function budget(ctx: GatewayContext) {
  return ctx.bodyBudget ? { budget: ctx.bodyBudget } : {};
}

function eventHeaders(c: Context): { key: string; value: string }[] {
  const found: { key: string; value: string }[] = [];
  c.req.raw.headers.forEach((value, name) => {
    if (!isStandardHeader(name)) found.push({ key: name, value });
  });
  if (found.length > MAX_WEBHOOK_HEADERS) {
    throw badRequest(`at most ${MAX_WEBHOOK_HEADERS} non-standard headers per webhook call, got ${found.length}`);
  }
  return found;
}
