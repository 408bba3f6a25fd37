/**
 * `edgebus.webhook_subscriptions` and its outbox (`webhook_deliveries`, `webhook_attempts`) as
 * the producer's API and publish path use them (migration 0013; the webhooks Worker drains the
 * outbox). Every query of one subscription takes an optional owner: a key with the
 * `subscriptions` scope sees only the subscriptions it created, and another's is "not found".
 * jsonb travels as text in both directions.
 */
import type { Database } from "#shared/db/client.ts";
import type { EventPattern } from "#shared/routing/event-pattern.ts";
import type { StoredSecret } from "./secrets.ts";

export const SUBSCRIPTION_STATUSES = ["active", "paused", "disabled"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface SubscriptionRateLimit {
  /** Deliveries per second the dispatcher sends this subscription at most. */
  readonly per_second: number;
}

/** A subscription as the API shows it (never its secrets). */
export interface SubscriptionView {
  id: string;
  url: string;
  description: string;
  filter: EventPattern;
  fields: string[] | null;
  rate_limit: SubscriptionRateLimit | null;
  status: SubscriptionStatus;
  disabled_reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
  owner_key_id: string;
  /** When the previous secret stops being accepted (after a rotation), else null. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

/** What the router needs of a subscription that receives deliveries (active or paused). */
export interface RoutableSubscription {
  readonly id: string;
  readonly filter: EventPattern;
  readonly fields: string[] | null;
}

interface SubscriptionRow {
  id: string;
  owner_key_id: string;
  url: string;
  description: string;
  filter_text: string;
  fields_text: string | null;
  rate_limit_text: string | null;
  status: SubscriptionStatus;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  secrets_text: string;
  created_at: Date;
  updated_at: Date;
}

const iso = (value: Date | null) => (value === null ? null : value.toISOString());

const COLUMNS = (sql: Database) => sql`
  id, owner_key_id, url, description, filter::text as filter_text, fields::text as fields_text,
  rate_limit::text as rate_limit_text, status, disabled_reason, disabled_at, failing_since,
  secrets::text as secrets_text, created_at, updated_at`;

function toView(row: SubscriptionRow): SubscriptionView {
  const secrets = JSON.parse(row.secrets_text) as StoredSecret[];
  const previous = secrets
    .map((entry) => entry.expires_at)
    .filter((expires): expires is string => expires !== null && Date.parse(expires) > Date.now())
    .sort()
    .at(-1);
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    filter: JSON.parse(row.filter_text) as EventPattern,
    fields: row.fields_text === null ? null : (JSON.parse(row.fields_text) as string[]),
    rate_limit: row.rate_limit_text === null ? null : (JSON.parse(row.rate_limit_text) as SubscriptionRateLimit),
    status: row.status,
    disabled_reason: row.disabled_reason,
    disabled_at: iso(row.disabled_at),
    failing_since: iso(row.failing_since),
    owner_key_id: row.owner_key_id,
    previous_secret_expires_at: previous ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** `sub_` and 32 hex digits. */
export const SUBSCRIPTION_ID = /^sub_[0-9a-f]{32}$/;

export function newSubscriptionId(): string {
  return `sub_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** `msg_` and 32 hex digits: the Standard Webhooks webhook-id of one delivery, kept across its attempts. */
export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

const ownerCondition = (sql: Database, owner: string | undefined) =>
  owner === undefined ? sql`true` : sql`owner_key_id = ${owner}`;

export interface NewSubscription {
  readonly url: string;
  readonly description: string;
  readonly filter: EventPattern;
  readonly fields: readonly string[] | null;
  readonly rate_limit: SubscriptionRateLimit | null;
  readonly owner_key_id: string;
  readonly secret: string;
}

export async function createSubscription(sql: Database, input: NewSubscription): Promise<SubscriptionView> {
  const secrets: StoredSecret[] = [{ secret: input.secret, created_at: new Date().toISOString(), expires_at: null }];
  const [row] = await sql<SubscriptionRow[]>`
    insert into edgebus.webhook_subscriptions (id, owner_key_id, url, description, filter, fields, rate_limit, secrets)
    values (${newSubscriptionId()}, ${input.owner_key_id}, ${input.url}, ${input.description},
      ${JSON.stringify(input.filter)}::text::jsonb, ${input.fields === null ? null : JSON.stringify(input.fields)}::text::jsonb,
      ${input.rate_limit === null ? null : JSON.stringify(input.rate_limit)}::text::jsonb, ${JSON.stringify(secrets)}::text::jsonb)
    returning ${COLUMNS(sql)}`;
  if (row === undefined) throw new Error("insert returned no row");
  return toView(row);
}

export async function listSubscriptions(
  sql: Database,
  options: { owner?: string; status?: SubscriptionStatus; limit: number; after?: string },
): Promise<{ entries: SubscriptionView[]; next: string | null }> {
  const rows = await sql<SubscriptionRow[]>`
    select ${COLUMNS(sql)} from edgebus.webhook_subscriptions
    where ${ownerCondition(sql, options.owner)}
      and ${options.status === undefined ? sql`true` : sql`status = ${options.status}`}
      and ${options.after === undefined ? sql`true` : sql`id > ${options.after}`}
    order by id limit ${options.limit + 1}::int`;
  const entries = rows.slice(0, options.limit).map(toView);
  return { entries, next: rows.length > options.limit ? (entries.at(-1)?.id ?? null) : null };
}

export async function getSubscription(
  sql: Database,
  id: string,
  owner: string | undefined,
): Promise<SubscriptionView | undefined> {
  const [row] = await sql<SubscriptionRow[]>`
    select ${COLUMNS(sql)} from edgebus.webhook_subscriptions where id = ${id} and ${ownerCondition(sql, owner)}`;
  return row === undefined ? undefined : toView(row);
}

export interface SubscriptionChanges {
  readonly url?: string;
  readonly description?: string;
  readonly filter?: EventPattern;
  readonly fields?: readonly string[] | null;
  readonly rate_limit?: SubscriptionRateLimit | null;
}

export async function updateSubscription(
  sql: Database,
  id: string,
  owner: string | undefined,
  changes: SubscriptionChanges,
): Promise<SubscriptionView | undefined> {
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  const [row] = await sql<SubscriptionRow[]>`
    update edgebus.webhook_subscriptions set
      url = coalesce(${changes.url ?? null}, url),
      description = coalesce(${changes.description ?? null}, description),
      filter = coalesce(${changes.filter === undefined ? null : JSON.stringify(changes.filter)}::text::jsonb, filter),
      fields = case when ${changes.fields !== undefined} then ${changes.fields === undefined ? null : json(changes.fields)}::text::jsonb else fields end,
      rate_limit = case when ${changes.rate_limit !== undefined} then ${changes.rate_limit === undefined ? null : json(changes.rate_limit)}::text::jsonb else rate_limit end,
      updated_at = now()
    where id = ${id} and ${ownerCondition(sql, owner)}
    returning ${COLUMNS(sql)}`;
  return row === undefined ? undefined : toView(row);
}

/**
 * Pause (deliveries are still written and held), or resume (active again; a disabled
 * subscription is re-enabled and its failure run forgotten). `undefined` when not found.
 */
export async function setSubscriptionStatus(
  sql: Database,
  id: string,
  owner: string | undefined,
  status: "active" | "paused",
): Promise<SubscriptionView | undefined> {
  const [row] = await sql<SubscriptionRow[]>`
    update edgebus.webhook_subscriptions set
      status = ${status},
      disabled_reason = case when ${status} = 'active' then null else disabled_reason end,
      disabled_at = case when ${status} = 'active' then null else disabled_at end,
      failing_since = case when ${status} = 'active' then null else failing_since end,
      updated_at = now()
    where id = ${id} and ${ownerCondition(sql, owner)}
    returning ${COLUMNS(sql)}`;
  return row === undefined ? undefined : toView(row);
}

/** Deletes the subscription with its outbox rows and history; false when not found. */
export async function deleteSubscription(sql: Database, id: string, owner: string | undefined): Promise<boolean> {
  const rows = await sql`
    delete from edgebus.webhook_subscriptions where id = ${id} and ${ownerCondition(sql, owner)} returning id`;
  return rows.length > 0;
}

/** Replaces the secrets under a row lock (two rotations at once cannot lose one). */
export async function rotateSubscriptionSecret(
  sql: Database,
  id: string,
  owner: string | undefined,
  rotate: (secrets: StoredSecret[]) => { secrets: StoredSecret[]; secret: string },
): Promise<{ subscription: SubscriptionView; secret: string } | undefined> {
  return sql.begin(async (tx) => {
    const [current] = await tx<{ secrets_text: string }[]>`
      select secrets::text as secrets_text from edgebus.webhook_subscriptions
      where id = ${id} and ${ownerCondition(tx as unknown as Database, owner)} for update`;
    if (current === undefined) return undefined;
    const { secrets, secret } = rotate(JSON.parse(current.secrets_text) as StoredSecret[]);
    const [row] = await tx<SubscriptionRow[]>`
      update edgebus.webhook_subscriptions set secrets = ${JSON.stringify(secrets)}::text::jsonb, updated_at = now()
      where id = ${id} returning ${COLUMNS(tx as unknown as Database)}`;
    if (row === undefined) return undefined;
    return { subscription: toView(row), secret };
  });
}

/** Subscriptions that receive deliveries: active ones and paused ones (their backlog is held). */
export async function loadRoutableSubscriptions(sql: Database): Promise<RoutableSubscription[]> {
  const rows = await sql<{ id: string; filter_text: string; fields_text: string | null }[]>`
    select id, filter::text as filter_text, fields::text as fields_text
    from edgebus.webhook_subscriptions where status in ('active', 'paused') order by id`;
  return rows.map((row) => ({
    id: row.id,
    filter: JSON.parse(row.filter_text) as EventPattern,
    fields: row.fields_text === null ? null : (JSON.parse(row.fields_text) as string[]),
  }));
}

export interface OutboxRow {
  readonly subscription_id: string;
  readonly event_source: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly body: string;
}

/**
 * Appends deliveries to the outbox in the given order; a (subscription, event) already there is
 * left alone (a publish retried after a partial failure). Rows of a subscription deleted
 * meanwhile are skipped. Returns the subscriptions that got rows.
 */
export async function insertOutboxRows(sql: Database, rows: readonly OutboxRow[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const values = rows.map((row) => ({ ...row, message_id: newMessageId() }));
  const inserted = await sql<{ subscription_id: string }[]>`
    insert into edgebus.webhook_deliveries (subscription_id, message_id, event_source, event_id, event_type, body)
    select v.subscription_id, v.message_id, v.event_source, v.event_id, v.event_type, v.body
    from rows from (jsonb_to_recordset(${JSON.stringify(values)}::text::jsonb)
        as (subscription_id text, message_id text, event_source text, event_id text, event_type text, body text))
      with ordinality as v(subscription_id, message_id, event_source, event_id, event_type, body, n)
    where exists (select 1 from edgebus.webhook_subscriptions s where s.id = v.subscription_id)
    order by n
    on conflict (subscription_id, event_source, event_id) do nothing
    returning subscription_id`;
  return [...new Set(inserted.map((row) => row.subscription_id))];
}

export interface AttemptView {
  attempted_at: string;
  status_code: number | null;
  latency_ms: number;
  outcome: string;
  response_snippet: string | null;
  error: string | null;
}

export interface DeliveryView {
  seq: number;
  message_id: string;
  event: { source: string; id: string; type: string };
  status: DeliveryStatus;
  attempts: AttemptView[];
  attempt_count: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

interface DeliveryRow {
  seq: string;
  message_id: string;
  event_source: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
  attempts_text: string;
}

/** A subscription's deliveries, newest first, each with its attempts (oldest first). */
export async function listDeliveries(
  sql: Database,
  subscriptionId: string,
  options: { status?: DeliveryStatus; limit: number; before?: number },
): Promise<{ entries: DeliveryView[]; next: number | null }> {
  const rows = await sql<DeliveryRow[]>`
    select d.seq, d.message_id, d.event_source, d.event_id, d.event_type, d.status, d.attempts,
      d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.finished_at,
      coalesce((select jsonb_agg(jsonb_build_object(
          'attempted_at', to_char(a.attempted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'status_code', a.status_code, 'latency_ms', a.latency_ms, 'outcome', a.outcome,
          'response_snippet', a.response_snippet, 'error', a.error) order by a.id)
        from edgebus.webhook_attempts a where a.delivery_seq = d.seq), '[]'::jsonb)::text as attempts_text
    from edgebus.webhook_deliveries d
    where d.subscription_id = ${subscriptionId}
      and ${options.status === undefined ? sql`true` : sql`d.status = ${options.status}`}
      and ${options.before === undefined ? sql`true` : sql`d.seq < ${options.before}::bigint`}
    order by d.seq desc limit ${options.limit + 1}::int`;
  const entries = rows.slice(0, options.limit).map(
    (row): DeliveryView => ({
      seq: Number(row.seq),
      message_id: row.message_id,
      event: { source: row.event_source, id: row.event_id, type: row.event_type },
      status: row.status,
      attempts: JSON.parse(row.attempts_text) as AttemptView[],
      attempt_count: row.attempts,
      next_attempt_at: row.status === "pending" ? row.next_attempt_at.toISOString() : null,
      last_status: row.last_status,
      last_error: row.last_error,
      created_at: row.created_at.toISOString(),
      finished_at: iso(row.finished_at),
    }),
  );
  return { entries, next: rows.length > options.limit ? (entries.at(-1)?.seq ?? null) : null };
}

/**
 * Puts failed deliveries back in the outbox (all of the subscription's, or the listed ones):
 * pending, due now, with a fresh attempt budget. Their webhook-id stays the same.
 */
export async function redriveDeliveries(
  sql: Database,
  subscriptionId: string,
  seqs: readonly number[] | undefined,
): Promise<number> {
  const rows = await sql`
    update edgebus.webhook_deliveries set status = 'pending', attempts = 0, next_attempt_at = now(), finished_at = null
    where subscription_id = ${subscriptionId} and status = 'failed'
      and ${seqs === undefined ? sql`true` : sql`seq in (select jsonb_array_elements_text(${JSON.stringify(seqs)}::text::jsonb)::bigint)`}
    returning seq`;
  return rows.length;
}
