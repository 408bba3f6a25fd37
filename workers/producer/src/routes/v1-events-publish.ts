import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { BINARY_MODE_HEADERS } from "#shared/envelope/cloud-event.ts";
import { receiptSchema } from "../api-schemas.ts";
import { onlySourceOf } from "../auth/authenticate.ts";
import { catalogueEventSchema } from "../catalogue-openapi.ts";
import { parseSingleEvent } from "../envelope/http-binding.ts";
import { legacyEnvelopeSchema } from "../envelope/legacy.ts";
import { ENVELOPE_LIMITS } from "../envelope/limits.ts";
import { publishEvent as publish } from "../publish-event.ts";
import { readBodyText } from "../read-body.ts";
import { assertReadyToPublish } from "../readiness.ts";
import { API_KEY, defineRoute, errorResponses, jsonContent } from "../route-definition.ts";

/** A `ce-*` header of binary mode, documented (not validated here: `http-binding.ts` parses them). */
const binaryModeHeader = z
  .string()
  .optional()
  .meta({ param: { description: "Binary mode only" } });
const binaryModeHeaders = z.object(Object.fromEntries(BINARY_MODE_HEADERS.map((name) => [name, binaryModeHeader])));

/**
 * `POST /v1/events` — one event in structured mode, binary mode or the legacy envelope.
 * 202 with the receipt (`accepted` or `duplicate`); every failure through the error handler.
 */
export const publishEvent = defineRoute(
  createRoute({
    method: "post",
    path: "/v1/events",
    operationId: "publishEvent",
    summary: "Publish one event",
    description: `Structured mode (\`application/cloudevents+json\`), binary mode (\`ce-*\` headers, percent-encoded, with an \`application/json\` body holding \`data\`) or the legacy envelope (\`application/json\` with \`event_id\`, \`event_type\`…; without \`source\` it is published from the key's only allowed source). Short types that are catalogue aliases (\`citizen.created\`) and the government design's own citizen events are upcast to the current shape first; the receipt then says \`received_as\` (\`seed-v1\`). A request body may be ${ENVELOPE_LIMITS.maxRequestBytes} bytes and the normalised event ${ENVELOPE_LIMITS.maxEventBytes} bytes (the queue message limit minus its metadata). A retry with the same source + id answers \`duplicate\` and publishes only destinations a previous attempt missed.`,
    security: API_KEY,
    request: {
      headers: binaryModeHeaders,
      body: {
        required: true,
        content: {
          "application/cloudevents+json": { schema: catalogueEventSchema },
          "application/json": {
            schema: z.union([legacyEnvelopeSchema, z.unknown().describe("Binary mode: the event's data (any JSON)")]),
          },
        },
      },
    },
    responses: {
      202: { description: "Accepted or duplicate", content: jsonContent(receiptSchema) },
      ...errorResponses([400, 401, 403, 409, 413, 415, 422, 429, 503]),
    },
  }),
  async (c, principal) => {
    const caps = c.get("caps");
    assertReadyToPublish(caps, principal);
    const body = await readBodyText(c.req.raw, ENVELOPE_LIMITS.maxRequestBytes, "an event");
    const incoming = parseSingleEvent(c.req.raw.headers, body, { missingSource: () => onlySourceOf(principal) });
    const receipt = await publish(caps, principal, incoming);
    return c.json(receipt, 202);
  },
);
