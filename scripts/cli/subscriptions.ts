/**
 * `npm run edgebus -- subscriptions …`: webhook subscriptions through `/v1/subscriptions`
 * (docs/webhooks.md), as tables. A key with the `subscriptions` scope sees and changes only the
 * subscriptions it created; an admin key all of them.
 */
import type { AdminClient, Json } from "./admin-client.ts";
import { renderPairs, renderTable } from "./table.ts";

export const SUBSCRIPTIONS_HELP = `Webhook subscriptions (a key with the admin or the subscriptions scope)
  subscriptions list [--status active|paused|disabled] [--limit N]
  subscriptions show <id>
  subscriptions create <url> --filter JSON [--description TEXT] [--fields a.b,c] [--rate N]
                                     prints the signing secret: the only time it is shown
  subscriptions update <id> [--target URL] [--filter JSON] [--description TEXT]
                         [--fields a.b,c | --fields ''] [--rate N | --rate 0]
  subscriptions pause|resume|delete <id>
  subscriptions rotate-secret <id>   new secret (shown once); the old one stays valid a while
  subscriptions test <id>            send a signed example event
  subscriptions deliveries <id> [--status pending|delivered|failed] [--limit N]
  subscriptions redrive <id> [--seq N,N]   send failed deliveries again
`;

export interface SubscriptionOptions {
  readonly json: boolean;
  readonly status?: string | undefined;
  readonly limit?: string | undefined;
  readonly filter?: string | undefined;
  readonly description?: string | undefined;
  readonly fields?: string | undefined;
  readonly rate?: string | undefined;
  readonly target?: string | undefined;
  readonly seq?: string | undefined;
}

export interface Output {
  write(text: string): void;
}

export class SubscriptionUsageError extends Error {
  override readonly name = "SubscriptionUsageError";
}

const shortTime = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-");

function parseFilter(text: string): Json {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Json;
  } catch {
    // reported below
  }
  throw new SubscriptionUsageError(
    `--filter must be a JSON object, e.g. '{"type":["gov.permits.application.approved"]}'`,
  );
}

function parseFields(text: string): string[] | null {
  const fields = text
    .split(",")
    .map((field) => field.trim())
    .filter(Boolean);
  return fields.length === 0 ? null : fields;
}

function parseRate(text: string): Json | null {
  const rate = Number(text);
  if (!Number.isInteger(rate) || rate < 0) throw new SubscriptionUsageError("--rate must be a whole number ≥ 0");
  return rate === 0 ? null : { per_second: rate };
}

function subscriptionTable(entries: Json[]): string {
  return renderTable(entries, [
    { header: "ID", value: (s) => s.id },
    { header: "STATUS", value: (s) => s.status },
    { header: "URL", value: (s) => s.url, max: 50 },
    { header: "FILTER", value: (s) => JSON.stringify(s.filter), max: 50 },
    { header: "OWNER", value: (s) => s.owner_key_id },
    { header: "FAILING SINCE", value: (s) => shortTime(s.failing_since) },
    { header: "NOTE", value: (s) => s.disabled_reason ?? s.description, max: 40 },
  ]);
}

function subscriptionPairs(s: Json): string {
  return renderPairs([
    ["id", s.id],
    ["status", s.status],
    ["url", s.url],
    ["description", s.description || "-"],
    ["filter", JSON.stringify(s.filter)],
    ["fields", s.fields === null ? "(whole event)" : (s.fields as string[]).join(", ")],
    ["rate limit", s.rate_limit === null ? "-" : `${s.rate_limit.per_second}/s`],
    ["owner", s.owner_key_id],
    ["disabled", s.disabled_reason === null ? "-" : `${shortTime(s.disabled_at)} ${s.disabled_reason}`],
    ["failing since", shortTime(s.failing_since)],
    ["old secret until", shortTime(s.previous_secret_expires_at)],
    ["created", shortTime(s.created_at)],
  ]);
}

function deliveryTable(entries: Json[]): string {
  return renderTable(entries, [
    { header: "SEQ", value: (d) => d.seq, align: "right" },
    { header: "STATUS", value: (d) => d.status },
    { header: "TYPE", value: (d) => d.event.type, max: 40 },
    { header: "EVENT ID", value: (d) => d.event.id, max: 36 },
    { header: "ATTEMPTS", value: (d) => d.attempt_count, align: "right" },
    { header: "LAST", value: (d) => d.last_status ?? d.last_error ?? "-", max: 30 },
    {
      header: "LATENCY",
      value: (d) => (d.attempts.length === 0 ? "-" : `${d.attempts.at(-1).latency_ms} ms`),
      align: "right",
    },
    { header: "NEXT / FINISHED", value: (d) => shortTime(d.next_attempt_at ?? d.finished_at) },
  ]);
}

export async function subscriptionsCommand(
  client: AdminClient,
  args: readonly string[],
  options: SubscriptionOptions,
  out: Output,
): Promise<number> {
  const [action, first] = args;
  const print = (json: unknown, text: () => string) =>
    out.write(`${options.json ? JSON.stringify(json, null, 2) : text()}\n`);
  const idOf = () => {
    if (first === undefined || !/^sub_[0-9a-f]{32}$/.test(first)) {
      throw new SubscriptionUsageError(`subscriptions ${action} needs a subscription id (sub_…)`);
    }
    return first;
  };
  switch (action) {
    case "list": {
      const query = new URLSearchParams();
      if (options.status) query.set("status", options.status);
      if (options.limit) query.set("limit", options.limit);
      const { json } = await client.request("GET", `/v1/subscriptions${query.size > 0 ? `?${query}` : ""}`);
      print(json, () =>
        json.subscriptions.length === 0 ? "no subscriptions" : subscriptionTable(json.subscriptions as Json[]),
      );
      return 0;
    }
    case "show": {
      const { json } = await client.request("GET", `/v1/subscriptions/${idOf()}`);
      print(json, () => subscriptionPairs(json));
      return 0;
    }
    case "create": {
      if (first === undefined) throw new SubscriptionUsageError("subscriptions create needs the target URL");
      if (options.filter === undefined) throw new SubscriptionUsageError("subscriptions create needs --filter JSON");
      const body: Json = { url: first, filter: parseFilter(options.filter) };
      if (options.description !== undefined) body.description = options.description;
      if (options.fields !== undefined) body.fields = parseFields(options.fields);
      if (options.rate !== undefined) body.rate_limit = parseRate(options.rate);
      const { json } = await client.request("POST", "/v1/subscriptions", body);
      print(json, () => `${subscriptionPairs(json)}\n\nsigning secret (shown only now): ${json.secret}`);
      return 0;
    }
    case "update": {
      const body: Json = {};
      if (options.target !== undefined) body.url = options.target;
      if (options.filter !== undefined) body.filter = parseFilter(options.filter);
      if (options.description !== undefined) body.description = options.description;
      if (options.fields !== undefined) body.fields = parseFields(options.fields);
      if (options.rate !== undefined) body.rate_limit = parseRate(options.rate);
      const { json } = await client.request("PATCH", `/v1/subscriptions/${idOf()}`, body);
      print(json, () => subscriptionPairs(json));
      return 0;
    }
    case "pause":
    case "resume": {
      const { json } = await client.request("POST", `/v1/subscriptions/${idOf()}/${action}`);
      print(json, () => `${json.id} is ${json.status}`);
      return 0;
    }
    case "delete": {
      const id = idOf();
      await client.request("DELETE", `/v1/subscriptions/${id}`);
      print({ deleted: id }, () => `deleted ${id} with its backlog and history`);
      return 0;
    }
    case "rotate-secret": {
      const { json } = await client.request("POST", `/v1/subscriptions/${idOf()}/rotate-secret`);
      print(
        json,
        () =>
          `new signing secret (shown only now): ${json.secret}\nthe previous secret stays valid until ${shortTime(json.previous_secret_expires_at)}`,
      );
      return 0;
    }
    case "test": {
      const { json } = await client.request("POST", `/v1/subscriptions/${idOf()}/test`);
      print(json, () => `queued test event ${json.event_id}; follow it with: subscriptions deliveries ${first}`);
      return 0;
    }
    case "deliveries": {
      const query = new URLSearchParams();
      if (options.status) query.set("status", options.status);
      if (options.limit) query.set("limit", options.limit);
      const { json } = await client.request(
        "GET",
        `/v1/subscriptions/${idOf()}/deliveries${query.size > 0 ? `?${query}` : ""}`,
      );
      print(json, () => (json.deliveries.length === 0 ? "no deliveries" : deliveryTable(json.deliveries as Json[])));
      return 0;
    }
    case "redrive": {
      const seqs = options.seq?.split(",").map((text) => Number(text.trim()));
      if (seqs?.some((seq) => !Number.isInteger(seq) || seq < 1)) {
        throw new SubscriptionUsageError("--seq must be delivery numbers, e.g. --seq 12,15");
      }
      const { json } = await client.request(
        "POST",
        `/v1/subscriptions/${idOf()}/deliveries/redrive`,
        seqs === undefined ? {} : { seqs },
      );
      print(json, () => `${json.redriven} failed deliveries back in the outbox`);
      return 0;
    }
    default:
      throw new SubscriptionUsageError(
        `unknown subscriptions command '${action ?? ""}' (list, show, create, update, pause, resume, delete, rotate-secret, test, deliveries, redrive)`,
      );
  }
}
