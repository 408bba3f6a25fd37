import { eventKey } from "../../../../shared/src/envelope/cloud-event.ts";
import { parseBatch } from "../../../../shared/src/envelope/http-binding.ts";
import { ENVELOPE_LIMITS } from "../../../../shared/src/envelope/limits.ts";
import { errorBody, toEdgebusError } from "../../../../shared/src/errors.ts";
import type { BatchItemResult } from "../api-schemas.ts";
import { authenticateRequest } from "../authenticate-request.ts";
import type { ProducerApp } from "../hono-env.ts";
import { countEvent, publishEvent } from "../publish-event.ts";
import { enforceRateLimit } from "../rate-limit.ts";
import { readBodyText } from "../read-body.ts";

/** Items published at once: enough to overlap broker round trips, few enough for Workers' 6 connections. */
const CONCURRENCY = 5;

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
) {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T, index);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * `POST /v1/events/batch` — up to 100 structured events (1 MB). The request as a whole fails only
 * for auth, size, content type, malformed JSON or the rate limit; otherwise 200 with one result
 * per event in request order, each with its own status (202 or the error's 4xx/503).
 */
export function registerV1EventsBatch(app: ProducerApp): void {
  app.post("/v1/events/batch", async (c) => {
    const caps = c.get("caps");
    const requestId = c.get("requestId");
    const principal = await authenticateRequest(c);
    const body = await readBodyText(c.req.raw, ENVELOPE_LIMITS.maxBatchBytes, "a batch");
    const items = parseBatch(c.req.raw.headers, body);
    await enforceRateLimit(caps, principal, items.length);

    // The same source + id twice in one batch: the later item waits for the earlier one and then
    // answers `duplicate`, instead of racing it for the publishing lease (409).
    const previousWithKey = new Map<string, Promise<unknown>>();
    const results = await mapWithConcurrency(items, CONCURRENCY, async (item, index): Promise<BatchItemResult> => {
      if (!item.ok) {
        countEvent(caps, undefined, "rejected");
        return { index, status: item.error.status, error: errorBody(item.error, requestId).error };
      }
      const key = eventKey({ source: String(item.event.attributes.source), id: String(item.event.attributes.id) });
      const earlier = previousWithKey.get(key);
      const attempt = (async () => {
        await earlier?.catch(() => undefined);
        return publishEvent(caps, principal, item.event);
      })();
      previousWithKey.set(key, attempt);
      try {
        return { index, status: 202, receipt: await attempt };
      } catch (error) {
        const failure = toEdgebusError(error);
        return { index, status: failure.status, error: errorBody(failure, requestId).error };
      }
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
