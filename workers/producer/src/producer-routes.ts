/**
 * Every route of the producer API, in registration order, and the OpenAPI document derived from
 * their declarations (served at `GET /openapi.json`, rendered by `GET /docs`, committed as
 * `schemas/generated/openapi.json` by `scripts/generate-artefacts.ts`). A route is added by
 * declaring it in its file under `routes/` and listing it here.
 */
import type { EventCatalogue } from "#shared/catalogue/catalogue-set.ts";
import {
  batchItemResultSchema,
  batchResponseSchema,
  errorBodySchema,
  healthSchema,
  receiptSchema,
  schemaListSchema,
  schemaSummarySchema,
} from "./api-schemas.ts";
import { CATALOGUE_STAND_INS, catalogueComponents } from "./catalogue-openapi.ts";
import { cloudEventInputSchema } from "./envelope/cloud-event-input.ts";
import { legacyEnvelopeSchema } from "./envelope/legacy.ts";
import { openApiDocument } from "./openapi-document.ts";
import { BEARER_SCHEME, type ProducerRoute } from "./route-definition.ts";
import { DEAD_LETTER_ROUTES } from "./routes/admin-dead-letters.ts";
import { REPLAY_ROUTES } from "./routes/admin-replay.ts";
import {
  archiveReplayDryRunSchema,
  archiveReplayResponseSchema,
  archiveReplaySchema,
  deadLetterDetailSchema,
  deadLetterPageSchema,
  deadLetterRedriveSchema,
  deadLetterResponseSchema,
  discardSchema,
  redriveDryRunSchema,
  redriveResponseSchema,
  replayJobSchema,
} from "./routes/admin-schemas.ts";
import { docsPage } from "./routes/docs-page.ts";
import { healthz } from "./routes/healthz.ts";
import { metrics } from "./routes/metrics.ts";
import { openApiJson } from "./routes/openapi-json.ts";
import { readySchema, readyz } from "./routes/readyz.ts";
import { PUSH_SUBSCRIPTION_ROUTES } from "./routes/v1-citizens-push-subscriptions.ts";
import { publishBatch } from "./routes/v1-events-batch.ts";
import { publishEvent } from "./routes/v1-events-publish.ts";
import { consumerMetrics } from "./routes/v1-metrics-consumers.ts";
import { getSchema, listSchemas } from "./routes/v1-schemas.ts";
import { SUBSCRIPTION_ROUTES } from "./routes/v1-subscriptions.ts";
import {
  deliveryPageSchema,
  subscriptionPageSchema,
  subscriptionSchema,
  subscriptionWithSecretSchema,
} from "./routes/v1-subscriptions-schemas.ts";

/**
 * Registration order matters where paths overlap: a static path (`/v1/dead-letters/replay`) is
 * listed before the parameterised one it also matches (`/v1/dead-letters/{id}`).
 */
export const PRODUCER_ROUTES: readonly ProducerRoute[] = [
  publishEvent,
  publishBatch,
  listSchemas,
  getSchema,
  openApiJson(renderOpenApi),
  docsPage,
  healthz,
  readyz,
  metrics,
  consumerMetrics,
  ...DEAD_LETTER_ROUTES,
  ...REPLAY_ROUTES,
  ...SUBSCRIPTION_ROUTES,
  ...PUSH_SUBSCRIPTION_ROUTES,
];

/** The schemas the document names (`#/components/schemas/<name>`); the catalogue adds its own. */
const COMPONENTS = [
  [receiptSchema, "Receipt"],
  [errorBodySchema, "Error"],
  [batchItemResultSchema, "BatchItemResult"],
  [batchResponseSchema, "BatchResponse"],
  [schemaSummarySchema, "SchemaSummary"],
  [schemaListSchema, "SchemaList"],
  [healthSchema, "Health"],
  [readySchema, "Ready"],
  [cloudEventInputSchema, "CloudEvent"],
  [legacyEnvelopeSchema, "LegacyEnvelope"],
  [deadLetterResponseSchema, "DeadLetter"],
  [deadLetterDetailSchema, "DeadLetterDetail"],
  [deadLetterPageSchema, "DeadLetterPage"],
  [deadLetterRedriveSchema, "DeadLetterRedriveRequest"],
  [redriveResponseSchema, "DeadLetterRedriveJob"],
  [redriveDryRunSchema, "DeadLetterRedriveDryRun"],
  [discardSchema, "DiscardRequest"],
  [archiveReplaySchema, "ArchiveReplayRequest"],
  [archiveReplayResponseSchema, "ArchiveReplayJob"],
  [archiveReplayDryRunSchema, "ArchiveReplayDryRun"],
  [replayJobSchema, "ReplayJob"],
  [subscriptionSchema, "Subscription"],
  [subscriptionWithSecretSchema, "SubscriptionWithSecret"],
  [subscriptionPageSchema, "SubscriptionPage"],
  [deliveryPageSchema, "DeliveryPage"],
  ...CATALOGUE_STAND_INS,
] as const;

/** The OpenAPI 3.1 document of `PRODUCER_ROUTES` with `catalogue`'s event types. */
export function renderOpenApi(catalogue: EventCatalogue): Record<string, unknown> {
  return openApiDocument(
    PRODUCER_ROUTES.map(({ route }) => route),
    {
      info: {
        title: "edgebus producer API",
        version: "1.0.0",
        description:
          "Publish CloudEvents to government services. Events are validated against the event catalogue, deduplicated on source + id for 24 h, and routed to Cloudflare Queues and Kafka.",
      },
      servers: [{ url: "/" }],
      securitySchemes: {
        [BEARER_SCHEME]: { type: "http", scheme: "bearer", description: "An edgebus API key" },
      },
      components: COMPONENTS,
      jsonComponents: catalogueComponents(catalogue),
    },
  );
}
