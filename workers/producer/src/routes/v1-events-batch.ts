import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { errorBody } from "#shared/errors.ts";
import { type BatchItemResult, batchResponseSchema } from "../api-schemas.ts";
import { onlySourceOf } from "../auth/authenticate.ts";
import { catalogueEventSchema } from "../catalogue-openapi.ts";
import type { IncomingEvent } from "../envelope/http-binding.ts";
import { parseBatch } from "../envelope/http-binding.ts";
import { ENVELOPE_LIMITS } from "../envelope/limits.ts";
import { countEvent, publishEvents } from "../publish-event.ts";
import { readBodyText } from "../read-body.ts";
import { assertReadyToPublish } from "../readiness.ts";
import { API_KEY, defineRoute, errorResponses, jsonContent } from "../route-definition.ts";

/**
 * `POST /v1/events/batch` — up to 100 structured events (1 MB). The request as a whole fails only
 * for auth, size, content type, malformed JSON or the rate limit; otherwise 200 with one result
 * per event in request order, each with its own status (202 or the error's 4xx/503). The events
 * are published together: one call per destination, not one per event.
 */
export const publishBatch = defineRoute(
  createRoute({
    method: "post",
    path: "/v1/events/batch",
    operationId: "publishBatch",
    summary: `Publish up to ${ENVELOPE_LIMITS.maxBatchEvents} events`,
    description: `A JSON array of structured CloudEvents, at most ${ENVELOPE_LIMITS.maxBatchEvents} events and ${ENVELOPE_LIMITS.maxBatchBytes} bytes. Each event gets its own result (202 or an error status) in request order.`,
    security: API_KEY,
    request: {
      body: {
        required: true,
        content: {
          "application/cloudevents-batch+json": {
            schema: z.array(catalogueEventSchema).min(1).max(ENVELOPE_LIMITS.maxBatchEvents),
          },
        },
      },
    },
    responses: {
      200: { description: "Per-event results", content: jsonContent(batchResponseSchema) },
      ...errorResponses([400, 401, 413, 415, 429, 503]),
    },
  }),
  async (c, principal) => {
    const caps = c.get("caps");
    const requestId = c.get("requestId");
    assertReadyToPublish(caps, principal);
    const body = await readBodyText(c.req.raw, ENVELOPE_LIMITS.maxBatchBytes, "a batch");
    const items = parseBatch(c.req.raw.headers, body, { missingSource: () => onlySourceOf(principal) });

    const parsed: { index: number; event: IncomingEvent }[] = [];
    const results: BatchItemResult[] = new Array(items.length);
    items.forEach((item, index) => {
      if (item.ok) parsed.push({ index, event: item.event });
      else {
        countEvent(caps, undefined, "rejected");
        results[index] = { index, status: item.error.status, error: errorBody(item.error, requestId).error };
      }
    });
    // Every item costs one unit of the key's rate limit, the ones that failed to parse included.
    const published = await publishEvents(
      caps,
      principal,
      parsed.map(({ event }) => event),
      items.length,
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
  },
);
