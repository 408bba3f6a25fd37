import type { Hono } from "hono";
import type { GatewayContext } from "../gateway-context.ts";
import { readJson } from "../read-json.ts";
import { badRequest } from "../upstash-errors.ts";
import { fetchRequest } from "../wire.ts";

/** `POST /fetch`: no consumer group; results concatenated in request order. */
export function registerFetch(app: Hono, ctx: GatewayContext): void {
  const { limits } = ctx;
  app.post("/fetch", async (c) => {
    const body = await readJson(c, fetchRequest, { maxBytes: limits.maxBodyBytes });
    if (!body) throw badRequest("request body is required");
    const triples = [
      ...(body.topic !== undefined
        ? [{ topic: body.topic, partition: body.partition ?? 0, offset: body.offset ?? 0 }]
        : []),
      ...(body.topicPartitionOffsets ?? []),
    ];
    const timeoutMs = Math.min(body.timeout ?? 1000, limits.maxWaitMs);
    const results = await Promise.all(
      triples.map((t) => ctx.reader.read({ ...t, timeoutMs, maxBytes: limits.maxFetchBytes })),
    );
    return c.json(results.flat());
  });
}
