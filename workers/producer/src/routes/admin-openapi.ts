/**
 * The admin part of the OpenAPI document: component schemas from `admin-schemas.ts` and the
 * paths, each tagged `admin` and secured by an API key with the admin scope. Tests iterate over
 * the operations tagged `admin` to check that every admin route refuses other keys.
 */
import { z } from "zod";
import {
  archiveReplayDryRunSchema,
  archiveReplayResponseSchema,
  archiveReplaySchema,
  deadLetterDetailSchema,
  deadLetterListQuerySchema,
  deadLetterPageSchema,
  deadLetterRedriveSchema,
  deadLetterResponseSchema,
  discardSchema,
  redriveDryRunSchema,
  redriveResponseSchema,
  replayJobSchema,
} from "./admin-schemas.ts";

type JsonObject = Record<string, unknown>;

/** Component name → schema, registered with the other API components. */
export const ADMIN_COMPONENTS: ReadonlyArray<[z.ZodType, string]> = [
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
];

export interface AdminPathHelpers {
  ref: (name: string) => JsonObject;
  errorResponses: (statuses: readonly number[]) => Record<string, JsonObject>;
}

const json = (schema: JsonObject) => ({ "application/json": { schema } });

export function adminOpenApiPaths({ ref, errorResponses }: AdminPathHelpers): Record<string, JsonObject> {
  const security = [{ bearerAuth: [] }];
  const tags = ["admin"];
  const adminErrors = [401, 403, 503];
  const deadLetterId = {
    name: "id",
    in: "path",
    required: true,
    schema: { type: "integer", minimum: 1 },
    description: "Dead letter id",
  };
  const jobId = {
    name: "id",
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^rj_[0-9a-f]{32}$" },
    description: "Replay job id",
  };
  const listQuery = z.toJSONSchema(deadLetterListQuerySchema, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, JsonObject>;
  };
  const listParameters = Object.entries(listQuery.properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    schema,
    ...(typeof schema.description === "string" ? { description: schema.description } : {}),
  }));
  const jobResponse = (description: string, schema: string) => ({
    description,
    headers: { Location: { schema: { type: "string" }, description: "`/v1/replay/{job id}`" } },
    content: json(ref(schema)),
  });

  return {
    "/v1/dead-letters": {
      get: {
        operationId: "listDeadLetters",
        tags,
        summary: "List dead letters (admin)",
        description:
          "Newest failure first. Filters narrow; `status` defaults to `pending`. Pass `next_cursor` as `cursor` for the next page.",
        security,
        parameters: listParameters,
        responses: {
          "200": { description: "A page of dead letters", content: json(ref("DeadLetterPage")) },
          ...errorResponses([400, ...adminErrors]),
        },
      },
    },
    "/v1/dead-letters/replay": {
      post: {
        operationId: "redriveDeadLetters",
        tags,
        summary: "Redrive pending dead letters by filter (admin)",
        description:
          "Creates a rate-limited job that sends each matching pending dead letter back to the queue it failed on and marks it replayed. With `dry_run` answers the count per queue and a sample, and sends nothing.",
        security,
        requestBody: { required: false, content: json(ref("DeadLetterRedriveRequest")) },
        responses: {
          "200": { description: "Dry run", content: json(ref("DeadLetterRedriveDryRun")) },
          "202": jobResponse("Job created; follow it at Location", "DeadLetterRedriveJob"),
          ...errorResponses([400, ...adminErrors]),
        },
      },
    },
    "/v1/dead-letters/{id}": {
      get: {
        operationId: "getDeadLetter",
        tags,
        summary: "One dead letter with its original message (admin)",
        security,
        parameters: [deadLetterId],
        responses: {
          "200": { description: "The dead letter", content: json(ref("DeadLetterDetail")) },
          ...errorResponses([404, ...adminErrors]),
        },
      },
      delete: {
        operationId: "discardDeadLetter",
        tags,
        summary: "Discard a pending dead letter with a reason (admin)",
        description:
          "The row is kept with who discarded it, when and why. The reason may also be a `reason` query parameter.",
        security,
        parameters: [deadLetterId],
        requestBody: { required: false, content: json(ref("DiscardRequest")) },
        responses: {
          "200": { description: "Discarded", content: json(ref("DeadLetter")) },
          ...errorResponses([400, 404, 409, ...adminErrors]),
        },
      },
    },
    "/v1/dead-letters/{id}/replay": {
      post: {
        operationId: "replayDeadLetter",
        tags,
        summary: "Send one pending dead letter back to its queue now (admin)",
        description: "Marks it replayed with the caller's key id and the time. 409 when it is not pending.",
        security,
        parameters: [deadLetterId],
        responses: {
          "200": { description: "Replayed", content: json(ref("DeadLetterDetail")) },
          ...errorResponses([404, 409, ...adminErrors]),
        },
      },
    },
    "/v1/replay": {
      post: {
        operationId: "replayArchive",
        tags,
        summary: "Replay archived events into a queue (admin)",
        description:
          "Creates a rate-limited job sending the archived events whose type matches `type` and whose time is in [`from`, `to`) to `queue`, oldest first, with their original source + id (idempotent consumers skip what they applied). `rebuild` empties the read model the queue feeds, and its consumer's processed_events, first.",
        security,
        requestBody: { required: true, content: json(ref("ArchiveReplayRequest")) },
        responses: {
          "200": { description: "Dry run", content: json(ref("ArchiveReplayDryRun")) },
          "202": jobResponse("Job created; follow it at Location", "ArchiveReplayJob"),
          ...errorResponses([400, ...adminErrors]),
        },
      },
    },
    "/v1/replay/{id}": {
      get: {
        operationId: "getReplayJob",
        tags,
        summary: "Progress of a replay job (admin)",
        security,
        parameters: [jobId],
        responses: {
          "200": { description: "The job", content: json(ref("ReplayJob")) },
          ...errorResponses([404, ...adminErrors]),
        },
      },
      delete: {
        operationId: "cancelReplayJob",
        tags,
        summary: "Cancel a running replay job (admin)",
        security,
        parameters: [jobId],
        responses: {
          "200": { description: "Cancelled", content: json(ref("ReplayJob")) },
          ...errorResponses([404, 409, ...adminErrors]),
        },
      },
    },
  };
}
