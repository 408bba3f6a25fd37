/**
 * The webhooks Worker's environment, validated with zod at the boundary (every handler calls
 * `parseWebhooksEnv` first; a misconfiguration names the setting). `wrangler.toml` documents each.
 */
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { hyperdriveBinding } from "#shared/worker-bindings.ts";

const blankIsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema);

/** Standard Webhooks' suggested shape, stretched past 24 h: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (≈ 27.6 h). */
export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000] as const;

const scheduleSchema = z
  .string()
  .regex(/^\d+(,\d+)*$/, "must be comma-separated seconds, e.g. 5,300,1800")
  .transform((text) => text.split(",").map(Number))
  .refine((delays) => delays.every((d) => d >= 1 && d <= 86_400), "each delay must be 1–86400 seconds")
  .refine((delays) => delays.length <= 30, "at most 30 retries");

const dispatcherNamespace = z.custom<DurableObjectNamespace>(
  (value) => typeof (value as { idFromName?: unknown } | null)?.idFromName === "function",
  "DISPATCHERS must be a Durable Object namespace binding (see [durable_objects] in workers/webhooks/wrangler.toml)",
);

const envSchema = z
  .object({
    ENVIRONMENT: blankIsUnset(z.enum(["development", "staging", "production"]).default("production")),
    HYPERDRIVE: hyperdriveBinding,
    DISPATCHERS: dispatcherNamespace,
    WEBHOOK_RETRY_SCHEDULE: blankIsUnset(scheduleSchema.optional()),
    WEBHOOK_DISABLE_AFTER_DAYS: blankIsUnset(z.coerce.number().min(0.0001).max(90).default(5)),
    WEBHOOK_HISTORY_DAYS: blankIsUnset(z.coerce.number().int().min(1).max(400).default(30)),
    WEBHOOK_TIMEOUT_MS: blankIsUnset(z.coerce.number().int().min(100).max(60_000).default(15_000)),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: blankIsUnset(z.enum(["true", "false"]).default("false")),
    WEBHOOK_DNS_RESOLVER_URL: blankIsUnset(
      z.union([z.literal("off"), z.url({ protocol: /^https$/, message: "must be an https URL or off" })]).optional(),
    ),
  })
  .superRefine((env, ctx) => {
    if (env.WEBHOOK_ALLOW_PRIVATE_TARGETS === "true" && env.ENVIRONMENT !== "development") {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_ALLOW_PRIVATE_TARGETS"],
        message: "may be true only in development (it lets deliveries reach private and loopback hosts)",
      });
    }
  });

export interface WebhooksConfig {
  environment: "development" | "staging" | "production";
  databaseUrl: string;
  dispatchers: DurableObjectNamespace;
  /** Delays (seconds) before the 2nd, 3rd, … attempt; a delivery fails after `length + 1` attempts. */
  retrySchedule: readonly number[];
  disableAfterMs: number;
  historyDays: number;
  timeoutMs: number;
  allowPrivateTargets: boolean;
  dnsResolverUrl: string | null;
}

export function parseWebhooksEnv(env: unknown): WebhooksConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new EdgebusError("internal", `webhooks Worker misconfigured: ${problems.join("; ")}`, {
      details: { problems },
      retryable: true,
    });
  }
  const e = parsed.data;
  return {
    environment: e.ENVIRONMENT,
    databaseUrl: e.HYPERDRIVE.connectionString,
    dispatchers: e.DISPATCHERS,
    retrySchedule: (e.WEBHOOK_RETRY_SCHEDULE as number[] | undefined) ?? DEFAULT_RETRY_SCHEDULE,
    disableAfterMs: e.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000,
    historyDays: e.WEBHOOK_HISTORY_DAYS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS === "true",
    dnsResolverUrl:
      e.WEBHOOK_DNS_RESOLVER_URL === "off"
        ? null
        : ((e.WEBHOOK_DNS_RESOLVER_URL as string | undefined) ??
          (e.ENVIRONMENT === "development" ? null : "https://cloudflare-dns.com/dns-query")),
  };
}
