/**
 * Webhook subscriptions, managed at run time (docs/webhooks.md):
 * - `POST /v1/subscriptions` — create; the answer carries the signing secret, once;
 * - `GET /v1/subscriptions`, `GET|PATCH|DELETE /v1/subscriptions/{id}`;
 * - `POST /v1/subscriptions/{id}/pause` (deliveries are held) and `/resume` (the backlog follows, in order);
 * - `POST /v1/subscriptions/{id}/rotate-secret` — a new secret, shown once; the old one stays valid
 *   for WEBHOOK_SECRET_OVERLAP_HOURS;
 * - `POST /v1/subscriptions/{id}/test` — a signed example event through the same outbox;
 * - `GET /v1/subscriptions/{id}/deliveries` — history with attempts; `POST …/deliveries/redrive`.
 *
 * A key with the `admin` scope manages every subscription; one with the `subscriptions` scope only
 * those it created (another's answers 404, as if it did not exist).
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Database } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { checkTargetUrl } from "#shared/webhooks/target-safety.ts";
import type { Principal } from "../auth/authenticate.ts";
import type { ProducerEnv } from "../hono-env.ts";
import { defineRoute, jsonBodySchema, jsonContent, SUBSCRIPTIONS_KEY } from "../route-definition.ts";
import { generateSecret, rotateSecrets } from "../subscriptions/secrets.ts";
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  insertOutboxRows,
  listDeliveries,
  listSubscriptions,
  redriveDeliveries,
  rotateSubscriptionSecret,
  SUBSCRIPTION_ID,
  type SubscriptionView,
  setSubscriptionStatus,
  updateSubscription,
} from "../subscriptions/subscription-store.ts";
import { adminBodyErrors, adminErrors, parseInput, readJsonBody, withAdminDatabase } from "./admin-access.ts";
import {
  deliveryListQuerySchema,
  deliveryPageSchema,
  deliveryRedriveSchema,
  redriveResultSchema,
  subscriptionCreateSchema,
  subscriptionIdParams,
  subscriptionListQuerySchema,
  subscriptionPageSchema,
  subscriptionSchema,
  subscriptionUpdateSchema,
  subscriptionWithSecretSchema,
  testDeliverySchema,
} from "./v1-subscriptions-schemas.ts";

const TAGS = ["subscriptions"];
/** Type of the example event `POST …/test` sends. */
export const TEST_EVENT_TYPE = "edgebus.subscription.test";
export const TEST_EVENT_SOURCE = "/edgebus/subscriptions";

/** Whose subscriptions the caller may see: undefined = all (admin), else its own. */
function ownerOf(principal: Principal): string | undefined {
  return principal.admin ? undefined : principal.id;
}

function subscriptionId(text: string): string {
  if (!SUBSCRIPTION_ID.test(text)) throw new EdgebusError("not_found", `no subscription ${text}`);
  return text;
}

function notFound(id: string): never {
  throw new EdgebusError("not_found", `no subscription ${id}`);
}

/**
 * 400 unless `url` may be a target (scheme, credentials, literal addresses in every notation,
 * local names). Host names are resolved and checked by the webhooks Worker before each delivery.
 */
function assertTargetAllowed(c: Context<ProducerEnv>, url: string): string {
  const verdict = checkTargetUrl(url, { allowPrivateTargets: c.get("caps").config.webhooks.allowPrivateTargets });
  if (verdict.ok) return verdict.url.toString();
  throw new EdgebusError("bad_request", `invalid subscription: url: ${verdict.reason}`, {
    details: { problems: [{ field: "url", message: verdict.reason }] },
  });
}

/** Runs `work` with the database and drops this isolate's cached subscription list afterwards. */
async function changing<T>(c: Context<ProducerEnv>, action: string, work: (sql: Database) => Promise<T>): Promise<T> {
  const result = await withAdminDatabase(c, action, work);
  c.get("caps").subscriptions?.invalidate();
  return result;
}

const create = createRoute({
  method: "post",
  path: "/v1/subscriptions",
  operationId: "createSubscription",
  tags: TAGS,
  summary: "Create a webhook subscription",
  description:
    "Matching events are delivered to `url` as signed POSTs (Standard Webhooks). The answer is the only one that shows the signing secret.",
  security: SUBSCRIPTIONS_KEY,
  request: { body: { required: true, content: jsonContent(subscriptionCreateSchema) } },
  responses: {
    201: { description: "Created, with its secret", content: jsonContent(subscriptionWithSecretSchema) },
    ...adminBodyErrors([400]),
  },
});

export const createSubscriptionRoute = defineRoute(create, async (c, principal) => {
  const body = parseInput(jsonBodySchema(create), await readJsonBody(c), "subscription");
  const url = assertTargetAllowed(c, body.url);
  const secret = generateSecret();
  const subscription = await changing(c, "creating a subscription", (sql) =>
    createSubscription(sql, {
      url,
      description: body.description,
      filter: body.filter as never,
      fields: body.fields ?? null,
      rate_limit: body.rate_limit ?? null,
      owner_key_id: principal.id,
      secret,
    }),
  );
  return c.json({ ...subscription, secret }, 201, { Location: `/v1/subscriptions/${subscription.id}` });
});

const list = createRoute({
  method: "get",
  path: "/v1/subscriptions",
  operationId: "listSubscriptions",
  tags: TAGS,
  summary: "List webhook subscriptions",
  description: "Oldest first. An admin key sees every subscription, a `subscriptions` key its own.",
  security: SUBSCRIPTIONS_KEY,
  request: { query: subscriptionListQuerySchema },
  responses: {
    200: { description: "A page of subscriptions", content: jsonContent(subscriptionPageSchema) },
    ...adminErrors([400]),
  },
});

export const listSubscriptionsRoute = defineRoute(list, async (c, principal) => {
  const { limit, cursor, status } = parseInput(list.request.query, c.req.query(), "query");
  const owner = ownerOf(principal);
  const page = await withAdminDatabase(c, "listing subscriptions", (sql) =>
    listSubscriptions(sql, {
      limit,
      ...(owner === undefined ? {} : { owner }),
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { after: cursor }),
    }),
  );
  return c.json({ subscriptions: page.entries, next_cursor: page.next });
});

const getOne = createRoute({
  method: "get",
  path: "/v1/subscriptions/{id}",
  operationId: "getSubscription",
  tags: TAGS,
  summary: "One webhook subscription",
  security: SUBSCRIPTIONS_KEY,
  request: { params: subscriptionIdParams },
  responses: {
    200: { description: "The subscription", content: jsonContent(subscriptionSchema) },
    ...adminErrors([404]),
  },
});

export const getSubscriptionRoute = defineRoute(getOne, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const found = await withAdminDatabase(c, "reading a subscription", (sql) =>
    getSubscription(sql, id, ownerOf(principal)),
  );
  return c.json(found ?? notFound(id));
});

const patch = createRoute({
  method: "patch",
  path: "/v1/subscriptions/{id}",
  operationId: "updateSubscription",
  tags: TAGS,
  summary: "Change a webhook subscription",
  description:
    "Changes `url`, `filter`, `description`, `fields` or `rate_limit`; the producer routes by the new filter within seconds. Deliveries already in the outbox keep the body they were written with.",
  security: SUBSCRIPTIONS_KEY,
  request: { params: subscriptionIdParams, body: { required: true, content: jsonContent(subscriptionUpdateSchema) } },
  responses: {
    200: { description: "The changed subscription", content: jsonContent(subscriptionSchema) },
    ...adminBodyErrors([400, 404]),
  },
});

export const updateSubscriptionRoute = defineRoute(patch, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const body = parseInput(jsonBodySchema(patch), await readJsonBody(c), "subscription change");
  const url = body.url === undefined ? undefined : assertTargetAllowed(c, body.url);
  const updated = await changing(c, "changing a subscription", (sql) =>
    updateSubscription(sql, id, ownerOf(principal), {
      ...(url === undefined ? {} : { url }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.filter === undefined ? {} : { filter: body.filter as never }),
      ...(body.fields === undefined ? {} : { fields: body.fields }),
      ...(body.rate_limit === undefined ? {} : { rate_limit: body.rate_limit }),
    }),
  );
  return c.json(updated ?? notFound(id));
});

const remove = createRoute({
  method: "delete",
  path: "/v1/subscriptions/{id}",
  operationId: "deleteSubscription",
  tags: TAGS,
  summary: "Delete a webhook subscription",
  description: "Deletes it with its undelivered backlog and its delivery history.",
  security: SUBSCRIPTIONS_KEY,
  request: { params: subscriptionIdParams },
  responses: { 204: { description: "Deleted" }, ...adminErrors([404]) },
});

export const deleteSubscriptionRoute = defineRoute(remove, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const deleted = await changing(c, "deleting a subscription", (sql) =>
    deleteSubscription(sql, id, ownerOf(principal)),
  );
  if (!deleted) notFound(id);
  return c.body(null, 204);
});

function statusRoute(action: "pause" | "resume") {
  const route = createRoute({
    method: "post",
    path: `/v1/subscriptions/{id}/${action}`,
    operationId: action === "pause" ? "pauseSubscription" : "resumeSubscription",
    tags: TAGS,
    summary: action === "pause" ? "Pause deliveries" : "Resume deliveries",
    description:
      action === "pause"
        ? "Matching events keep being written to the outbox and are held until resume."
        : "Active again (a disabled subscription too, with its failure run forgotten); the held backlog is delivered in order of arrival.",
    security: SUBSCRIPTIONS_KEY,
    request: { params: subscriptionIdParams },
    responses: {
      200: { description: "The subscription", content: jsonContent(subscriptionSchema) },
      ...adminErrors([404]),
    },
  });
  return defineRoute(route, async (c, principal) => {
    const id = subscriptionId(c.req.param("id"));
    const updated: SubscriptionView | undefined = await changing(
      c,
      `${action === "pause" ? "pausing" : "resuming"} a subscription`,
      (sql) => setSubscriptionStatus(sql, id, ownerOf(principal), action === "pause" ? "paused" : "active"),
    );
    if (updated === undefined) notFound(id);
    if (action === "resume") await c.get("caps").subscriptions?.wake([id]);
    return c.json(updated);
  });
}

const rotate = createRoute({
  method: "post",
  path: "/v1/subscriptions/{id}/rotate-secret",
  operationId: "rotateSubscriptionSecret",
  tags: TAGS,
  summary: "Rotate the signing secret",
  description:
    "A new secret, shown only in this answer. Deliveries carry a signature with each valid secret (`webhook-signature: v1,<new> v1,<old>`) until the old one expires.",
  security: SUBSCRIPTIONS_KEY,
  request: { params: subscriptionIdParams },
  responses: {
    200: { description: "The subscription with its new secret", content: jsonContent(subscriptionWithSecretSchema) },
    ...adminErrors([404]),
  },
});

export const rotateSubscriptionSecretRoute = defineRoute(rotate, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const overlap = c.get("caps").config.webhooks.secretOverlapSeconds;
  const rotated = await withAdminDatabase(c, "rotating a secret", (sql) =>
    rotateSubscriptionSecret(sql, id, ownerOf(principal), (secrets) => rotateSecrets(secrets, overlap)),
  );
  if (rotated === undefined) notFound(id);
  return c.json({ ...rotated.subscription, secret: rotated.secret });
});

const test = createRoute({
  method: "post",
  path: "/v1/subscriptions/{id}/test",
  operationId: "testSubscription",
  tags: TAGS,
  summary: "Send a signed example event",
  description: `Queues an \`${TEST_EVENT_TYPE}\` event for this subscription only, signed and retried like any delivery; follow it in the deliveries.`,
  security: SUBSCRIPTIONS_KEY,
  request: { params: subscriptionIdParams },
  responses: {
    202: { description: "Queued", content: jsonContent(testDeliverySchema) },
    ...adminErrors([404]),
  },
});

export const testSubscriptionRoute = defineRoute(test, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const eventId = crypto.randomUUID();
  const event = {
    specversion: "1.0",
    id: eventId,
    source: TEST_EVENT_SOURCE,
    type: TEST_EVENT_TYPE,
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    data: { subscription_id: id, message: "A test delivery from edgebus: your endpoint received and can verify it." },
  };
  await withAdminDatabase(c, "queueing a test delivery", async (sql) => {
    if ((await getSubscription(sql, id, ownerOf(principal))) === undefined) notFound(id);
    await insertOutboxRows(sql, [
      {
        subscription_id: id,
        event_source: TEST_EVENT_SOURCE,
        event_id: eventId,
        event_type: TEST_EVENT_TYPE,
        body: JSON.stringify(event),
      },
    ]);
  });
  await c.get("caps").subscriptions?.wake([id]);
  return c.json(
    { event_id: eventId, type: TEST_EVENT_TYPE, description: "queued; see GET /v1/subscriptions/{id}/deliveries" },
    202,
  );
});

const deliveries = createRoute({
  method: "get",
  path: "/v1/subscriptions/{id}/deliveries",
  operationId: "listSubscriptionDeliveries",
  tags: TAGS,
  summary: "Delivery history",
  description:
    "Newest first, each with its attempts (status, latency, the start of the answer). Kept for WEBHOOK_HISTORY_DAYS.",
  security: SUBSCRIPTIONS_KEY,
  request: { params: subscriptionIdParams, query: deliveryListQuerySchema },
  responses: {
    200: { description: "A page of deliveries", content: jsonContent(deliveryPageSchema) },
    ...adminErrors([400, 404]),
  },
});

export const listDeliveriesRoute = defineRoute(deliveries, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const { limit, cursor, status } = parseInput(deliveries.request.query, c.req.query(), "query");
  const page = await withAdminDatabase(c, "listing deliveries", async (sql) => {
    if ((await getSubscription(sql, id, ownerOf(principal))) === undefined) notFound(id);
    return listDeliveries(sql, id, {
      limit,
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { before: cursor }),
    });
  });
  return c.json({ deliveries: page.entries, next_cursor: page.next });
});

const redrive = createRoute({
  method: "post",
  path: "/v1/subscriptions/{id}/deliveries/redrive",
  operationId: "redriveSubscriptionDeliveries",
  tags: TAGS,
  summary: "Send failed deliveries again",
  description:
    "Puts failed deliveries (all, or the listed `seqs`) back in the outbox with a fresh retry schedule and the same webhook-id.",
  security: SUBSCRIPTIONS_KEY,
  request: {
    params: subscriptionIdParams,
    body: { required: false, content: jsonContent(deliveryRedriveSchema) },
  },
  responses: {
    200: { description: "How many were put back", content: jsonContent(redriveResultSchema) },
    ...adminBodyErrors([400, 404]),
  },
});

export const redriveDeliveriesRoute = defineRoute(redrive, async (c, principal) => {
  const id = subscriptionId(c.req.param("id"));
  const body = parseInput(jsonBodySchema(redrive), await readJsonBody(c), "redrive request");
  const redriven = await withAdminDatabase(c, "redriving deliveries", async (sql) => {
    if ((await getSubscription(sql, id, ownerOf(principal))) === undefined) notFound(id);
    return redriveDeliveries(sql, id, body.seqs);
  });
  if (redriven > 0) await c.get("caps").subscriptions?.wake([id]);
  return c.json({ redriven });
});

/** In registration order: static paths before the parameterised ones they also match. */
export const SUBSCRIPTION_ROUTES = [
  createSubscriptionRoute,
  listSubscriptionsRoute,
  getSubscriptionRoute,
  updateSubscriptionRoute,
  deleteSubscriptionRoute,
  statusRoute("pause"),
  statusRoute("resume"),
  rotateSubscriptionSecretRoute,
  testSubscriptionRoute,
  listDeliveriesRoute,
  redriveDeliveriesRoute,
] as const;
