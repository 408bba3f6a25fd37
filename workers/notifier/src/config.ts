import { z } from "zod";
import { deadLetterQueueBinding, hyperdriveBinding, maxRetriesVar } from "#shared/worker-bindings.ts";

/** Vars that hold credentials: set with `wrangler secret put`, never in wrangler.toml. */
const SECRETS = [
  "SENDGRID_API_KEY",
  "TWILIO_ACCOUNT_SID",
  "TWILIO_AUTH_TOKEN",
  "WEBHOOK_SECRET",
  "VAPID_PRIVATE_KEY",
] as const;

/** base64url of `bytes` octets. */
const base64UrlOf = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, `must be base64url (${what})`)
    .refine((value) => Math.floor((value.length * 3) / 4) === bytes, `must be ${bytes} octets (${what})`);

/** wrangler passes an unset optional var as `""`; treat that as absent. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** Unset or `""` gives `fallback`. */
const orDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.default(fallback as never));

const seconds = z.coerce.number().int().min(0).max(86_400);

/** wrangler vars are strings: "true"/"false". */
const flag = z
  .union([z.boolean(), z.enum(["true", "false"])], { error: 'must be "true" or "false"' })
  .transform((value) => value === true || value === "true");

const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as Europe/Dublin");

/** Bindings, vars and secrets of the notifier, validated once per invocation (see wrangler.toml). */
export const notifierEnvSchema = z
  .object({
    /** = the consumer's `max_retries` in wrangler.toml. */
    MAX_RETRIES: maxRetriesVar,
    HYPERDRIVE: hyperdriveBinding,
    DEAD_LETTER_QUEUE: deadLetterQueueBinding("notifications-dlq"),
    SENDGRID_API_KEY: z.string().min(1),
    SENDGRID_BASE_URL: z.url({ protocol: /^https?$/ }),
    SENDGRID_FROM: z.email(),
    SENDGRID_FROM_NAME: optional(z.string().min(1).max(100)),
    TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-f]{32}$/, "must be AC followed by 32 hex digits"),
    TWILIO_AUTH_TOKEN: z.string().min(1),
    TWILIO_FROM: z.union([z.e164(), z.string().regex(/^MG[0-9a-f]{32}$/)], {
      error: "must be an E.164 number or a Messaging Service SID (MG…)",
    }),
    TWILIO_BASE_URL: z.url({ protocol: /^https?$/ }),
    WEBHOOK_URL: optional(z.url({ protocol: /^https?$/ })),
    WEBHOOK_SECRET: optional(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be whsec_<base64>")),
    NOTIFY_TIME_ZONE: timeZone.default("Europe/Dublin"),
    /** Deadline of one provider call. */
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
    /**
     * How long a send waits, retried with backoff, for a citizen `citizen_refs` does not know yet
     * (citizen-sync has not applied their `created` event) before it is skipped (`unknown_citizen`).
     */
    UNKNOWN_CITIZEN_RETRY_SECONDS: orDefault(seconds, 900),
    /**
     * After a provider call ended without an answer (timeout, dropped connection), how long to wait
     * before asking the provider whether it has the message (its records lag) or sending again.
     */
    UNKNOWN_OUTCOME_VISIBILITY_SECONDS: orDefault(seconds, 300),
    /**
     * For a channel without a lookup (email without SENDGRID_EMAIL_ACTIVITY): `resend` after the
     * visibility window (the citizen may get it twice), or `give_up` (recorded `unknown`, never
     * sent again: the citizen may get nothing).
     */
    UNKNOWN_OUTCOME_POLICY: orDefault(z.enum(["resend", "give_up"]), "resend"),
    /** The SendGrid account has the Email Activity add-on (and the API key its scope): look up unknown sends. */
    SENDGRID_EMAIL_ACTIVITY: orDefault(flag, false),
    /**
     * Web Push (VAPID, RFC 8292): the application server's P-256 key pair, the public key being the
     * `applicationServerKey` the citizen app subscribes with. Without both, push notifications are
     * skipped (`push_not_configured`). docs/notifications.md shows how to make a pair.
     */
    VAPID_PUBLIC_KEY: optional(base64UrlOf(65, "the uncompressed P-256 public key")),
    VAPID_PRIVATE_KEY: optional(base64UrlOf(32, "the P-256 private key")),
    /** Contact for push services' operators (`sub` claim): `mailto:` or `https:`. */
    VAPID_SUBJECT: orDefault(
      z.string().regex(/^(mailto:|https:\/\/)\S+$/, "must be a mailto: or https: URI"),
      "mailto:noreply@council.example.gov",
    ),
    /** Seconds a push service keeps a message for a device that is offline (`TTL`). */
    PUSH_TTL_SECONDS: orDefault(z.coerce.number().int().min(0).max(2_419_200), 86_400),
  })
  .refine((env) => env.WEBHOOK_URL === undefined || env.WEBHOOK_SECRET !== undefined, {
    path: ["WEBHOOK_SECRET"],
    message: "is required when WEBHOOK_URL is set",
  })
  .refine((env) => (env.VAPID_PUBLIC_KEY === undefined) === (env.VAPID_PRIVATE_KEY === undefined), {
    path: ["VAPID_PRIVATE_KEY"],
    message: "VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are set together (or neither: no push)",
  });

export type NotifierEnv = z.output<typeof notifierEnvSchema>;

/** One line per problem, telling the operator the exact command for a missing secret. */
export function describeConfigIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const name = String(issue.path[0] ?? "");
      const hint = (SECRETS as readonly string[]).includes(name)
        ? ` (set it with: npx wrangler secret put ${name} -c workers/notifier/wrangler.toml)`
        : "";
      return `${issue.path.join(".")}: ${issue.message}${hint}`;
    })
    .join("; ");
}
