/**
 * A citizen's Web Push subscriptions, for the service that owns the citizen app (a key with the
 * `notify:push-subscriptions` scope, or an admin key):
 * - `POST /v1/citizens/{id}/push-subscriptions` — register what the browser's
 *   `PushSubscription.toJSON()` gave (`endpoint`, `expirationTime`, `keys.p256dh`, `keys.auth`);
 *   201 when new, 200 when the endpoint was registered before (it now belongs to this citizen);
 * - `DELETE /v1/citizens/{id}/push-subscriptions?endpoint=…` — remove one (204, or 404).
 *
 * Stored in `edgebus.push_subscriptions`; the notifier sends `gov.notification.push.queued` to
 * every subscription of the citizen and removes one when its push service answers 404 or 410.
 * Keys are checked here (a 65-octet uncompressed P-256 point and a 16-octet secret) so a bad
 * registration fails now, not at the first push.
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { PUSH_SUBSCRIPTIONS_SCOPE } from "../auth/api-key-config.ts";
import type { Principal } from "../auth/authenticate.ts";
import { API_KEY, defineRoute, errorResponses, jsonBodySchema, jsonContent } from "../route-definition.ts";
import { parseInput, readJsonBody, withAdminDatabase } from "./admin-access.ts";
import { deletePushSubscription, upsertPushSubscription } from "./v1-citizens-push-subscriptions-store.ts";

const TAGS = ["push subscriptions"];
const MAX_ENDPOINT_LENGTH = 2048;

function base64UrlBytes(text: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) return undefined;
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1) return undefined;
  return Math.floor((body.length * 3) / 4);
}

const citizenParams = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .meta({ param: { description: "Citizen id (positive integer)" } }),
});

export const pushSubscriptionInputSchema = z.strictObject({
  endpoint: z
    .url({ protocol: /^https?$/ })
    .max(MAX_ENDPOINT_LENGTH)
    .describe("The push service URL of this subscription (https; http only in development)"),
  expirationTime: z
    .number()
    .int()
    .positive()
    .nullable()
    .optional()
    .describe("When the subscription expires (ms since the epoch), as the browser gave it; null or absent: never"),
  keys: z.strictObject({
    p256dh: z
      .string()
      .max(128)
      .refine((value) => base64UrlBytes(value) === 65 && value.startsWith("B"), {
        message: "must be the base64url of a 65-octet uncompressed P-256 public key",
      })
      .describe("The browser's P-256 public key (base64url, 65 octets uncompressed)"),
    auth: z
      .string()
      .max(32)
      .refine((value) => base64UrlBytes(value) === 16, { message: "must be the base64url of 16 octets" })
      .describe("The authentication secret (base64url, 16 octets)"),
  }),
});

export const pushSubscriptionSchema = z.object({
  citizen_id: z.int(),
  endpoint: z.string(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

/** 403 unless the key may manage citizens' push subscriptions. */
function assertPushScope(principal: Principal): void {
  if (principal.admin || principal.scopes.includes(PUSH_SUBSCRIPTIONS_SCOPE)) return;
  throw new EdgebusError("forbidden", `API key ${principal.id} lacks the ${PUSH_SUBSCRIPTIONS_SCOPE} scope`);
}

function citizenIdOf(text: string): number {
  const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new EdgebusError("not_found", `no citizen ${text}`);
  return id;
}

/**
 * Outside development an endpoint is an https URL on a named host: the notifier POSTs to it, so a
 * registration must not point it at an address inside the network. Development allows http and
 * loopback (the local provider's push service).
 */
function checkEndpoint(endpoint: string, environment: string): void {
  if (environment === "development") return;
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const literal = /^[\d.]+$/.test(host) || host.includes(":");
  if (
    url.protocol !== "https:" ||
    literal ||
    host === "localhost" ||
    host.endsWith(".localhost") ||
    !host.includes(".")
  ) {
    throw new EdgebusError(
      "bad_request",
      "invalid push subscription: endpoint must be an https URL on a public host name",
      {
        details: { problems: [{ field: "endpoint", message: "https on a public host name" }] },
      },
    );
  }
}

const register = createRoute({
  method: "post",
  path: "/v1/citizens/{id}/push-subscriptions",
  operationId: "registerPushSubscription",
  tags: TAGS,
  summary: "Register a citizen's Web Push subscription",
  description: `For the service that owns the citizen app: a key with the \`${PUSH_SUBSCRIPTIONS_SCOPE}\` scope (or an admin key). The body is the browser's \`PushSubscription.toJSON()\`. An endpoint registered before is replaced (200) and belongs to this citizen from now on.`,
  security: API_KEY,
  request: {
    params: citizenParams,
    body: { required: true, content: jsonContent(pushSubscriptionInputSchema) },
  },
  responses: {
    201: { description: "Registered", content: jsonContent(pushSubscriptionSchema) },
    200: { description: "Registered again (replaced)", content: jsonContent(pushSubscriptionSchema) },
    ...errorResponses([400, 401, 403, 404, 413, 503]),
  },
});

export const registerPushSubscription = defineRoute(register, async (c, principal) => {
  assertPushScope(principal);
  const citizenId = citizenIdOf(c.req.param("id") ?? "");
  const body = parseInput(jsonBodySchema(register), await readJsonBody(c), "push subscription");
  checkEndpoint(body.endpoint, c.get("caps").config.environment);
  const { created, subscription } = await withAdminDatabase(c, "registering a push subscription", (sql) =>
    upsertPushSubscription(sql, {
      citizenId,
      endpoint: body.endpoint,
      p256dh: body.keys.p256dh.replace(/=+$/, ""),
      auth: body.keys.auth.replace(/=+$/, ""),
      expiresAt: body.expirationTime ? new Date(body.expirationTime) : null,
      registeredBy: principal.id,
    }),
  );
  return c.json(subscription, created ? 201 : 200);
});

const remove = createRoute({
  method: "delete",
  path: "/v1/citizens/{id}/push-subscriptions",
  operationId: "deletePushSubscription",
  tags: TAGS,
  summary: "Remove a citizen's Web Push subscription",
  description: `For a key with the \`${PUSH_SUBSCRIPTIONS_SCOPE}\` scope (or an admin key): the subscription whose endpoint is \`endpoint\` (e.g. after \`PushSubscription.unsubscribe()\`). 404 when the citizen has no such subscription.`,
  security: API_KEY,
  request: {
    params: citizenParams,
    query: z.object({
      endpoint: z
        .string()
        .max(MAX_ENDPOINT_LENGTH)
        .meta({ param: { description: "The subscription's endpoint URL" } }),
    }),
  },
  responses: {
    204: { description: "Removed" },
    ...errorResponses([400, 401, 403, 404, 503]),
  },
});

export const removePushSubscription = defineRoute(remove, async (c, principal) => {
  assertPushScope(principal);
  const citizenId = citizenIdOf(c.req.param("id") ?? "");
  if (!c.req.query("endpoint")) throw new EdgebusError("bad_request", "pass the subscription's endpoint as ?endpoint=");
  const { endpoint } = parseInput(
    z.object({ endpoint: z.url().max(MAX_ENDPOINT_LENGTH) }),
    { endpoint: c.req.query("endpoint") },
    "push subscription endpoint",
  );
  const removed = await withAdminDatabase(c, "removing a push subscription", (sql) =>
    deletePushSubscription(sql, citizenId, endpoint),
  );
  if (!removed) throw new EdgebusError("not_found", `citizen ${citizenId} has no push subscription with this endpoint`);
  return c.body(null, 204);
});

export const PUSH_SUBSCRIPTION_ROUTES = [registerPushSubscription, removePushSubscription];
