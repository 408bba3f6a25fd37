import { parseSingleEvent } from "#shared/envelope/http-binding.ts";
import { ENVELOPE_LIMITS } from "#shared/envelope/limits.ts";
import { authenticateRequest } from "../authenticate-request.ts";
import type { ProducerApp } from "../hono-env.ts";
import { publishEvent } from "../publish-event.ts";
import { enforceRateLimit } from "../rate-limit.ts";
import { readBodyText } from "../read-body.ts";

/**
 * `POST /v1/events` — one event in structured mode, binary mode or the legacy envelope.
 * 202 with the receipt (`accepted` or `duplicate`); every failure through the error handler.
 */
export function registerV1EventsPublish(app: ProducerApp): void {
  app.post("/v1/events", async (c) => {
    const caps = c.get("caps");
    const principal = await authenticateRequest(c);
    const body = await readBodyText(c.req.raw, ENVELOPE_LIMITS.maxRequestBytes, "an event");
    await enforceRateLimit(caps, principal, 1);
    const incoming = parseSingleEvent(c.req.raw.headers, body);
    const receipt = await publishEvent(caps, principal, incoming);
    return c.json(receipt, 202);
  });
}
