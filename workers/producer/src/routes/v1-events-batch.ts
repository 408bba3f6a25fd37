import type { IncomingEvent } from "#shared/envelope/http-binding.ts";
import { parseBatch } from "#shared/envelope/http-binding.ts";
import { ENVELOPE_LIMITS } from "#shared/envelope/limits.ts";
import { errorBody } from "#shared/errors.ts";
import type { BatchItemResult } from "../api-schemas.ts";
import { authenticateRequest } from "../authenticate-request.ts";
import type { ProducerApp } from "../hono-env.ts";
import { countEvent, publishEvents } from "../publish-event.ts";
import { enforceRateLimit } from "../rate-limit.ts";
import { readBodyText } from "../read-body.ts";

/**
 * `POST /v1/events/batch` — up to 100 structured events (1 MB). The request as a whole fails only
 * for auth, size, content type, malformed JSON or the rate limit; otherwise 200 with one result
 * per event in request order, each with its own status (202 or the error's 4xx/503). The events
 * are published together: one call per destination, not one per event.
 */
export function registerV1EventsBatch(app: ProducerApp): void {
  app.post("/v1/events/batch", async (c) => {
    const caps = c.get("caps");
    const requestId = c.get("requestId");
    const principal = await authenticateRequest(c);
    const body = await readBodyText(c.req.raw, ENVELOPE_LIMITS.maxBatchBytes, "a batch");
    const items = parseBatch(c.req.raw.headers, body);
    await enforceRateLimit(caps, principal, items.length);

    const parsed: { index: number; event: IncomingEvent }[] = [];
    const results: BatchItemResult[] = new Array(items.length);
    items.forEach((item, index) => {
      if (item.ok) parsed.push({ index, event: item.event });
      else {
        countEvent(caps, undefined, "rejected");
        results[index] = { index, status: item.error.status, error: errorBody(item.error, requestId).error };
      }
    });
    const published = await publishEvents(
      caps,
      principal,
      parsed.map(({ event }) => event),
    );
    published.forEach((result, position) => {
      const { index } = parsed[position] as { index: number };
      results[index] = result.ok
        ? { index, status: 202, receipt: result.receipt }
        : { index, status: result.error.status, error: errorBody(result.error, requestId).error };
    });

    const count = (predicate: (result: BatchItemResult) => boolean) => results.filter(predicate).length;
    return c.json(
      {
        results,
        accepted: count((r) => "receipt" in r && r.receipt.status === "accepted"),
        duplicate: count((r) => "receipt" in r && r.receipt.status === "duplicate"),
        rejected: count((r) => "error" in r),
      },
      200,
    );
  });
}
