import { describe, expect, it } from "vitest";
import { describeConfigIssues, notifierEnvSchema } from "./config.ts";

const valid = {
  MAX_RETRIES: "5",
  HYPERDRIVE: { connectionString: "postgres://u:p@db.example:5432/edgebus" },
  DEAD_LETTER_QUEUE: { send: async () => undefined },
  SENDGRID_API_KEY: "SG.key",
  SENDGRID_BASE_URL: "https://api.sendgrid.com",
  SENDGRID_FROM: "noreply@council.example.gov",
  SENDGRID_FROM_NAME: "Council services",
  TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`,
  TWILIO_AUTH_TOKEN: "token",
  TWILIO_FROM: "+15005550006",
  TWILIO_BASE_URL: "https://api.twilio.com",
  WEBHOOK_URL: "",
  NOTIFY_TIME_ZONE: "Europe/Dublin",
};

const problems = (env: Record<string, unknown>) => {
  const parsed = notifierEnvSchema.safeParse(env);
  return parsed.success ? "" : describeConfigIssues(parsed.error);
};

describe("notifier configuration", () => {
  it("accepts the wrangler.toml vars plus secrets, with an empty WEBHOOK_URL meaning no webhook", () => {
    const parsed = notifierEnvSchema.parse(valid);
    expect(parsed).toMatchObject({ MAX_RETRIES: 5, WEBHOOK_URL: undefined, PROVIDER_TIMEOUT_MS: 10_000 });
  });

  it("names the wrangler command for a missing secret", () => {
    expect(problems({ ...valid, SENDGRID_API_KEY: undefined })).toContain(
      "SENDGRID_API_KEY: Invalid input: expected string, received undefined (set it with: npx wrangler secret put SENDGRID_API_KEY -c workers/notifier/wrangler.toml)",
    );
  });

  it("requires WEBHOOK_SECRET once WEBHOOK_URL is set", () => {
    expect(problems({ ...valid, WEBHOOK_URL: "https://cases.example.gov/hooks" })).toContain(
      "WEBHOOK_SECRET: is required when WEBHOOK_URL is set",
    );
    expect(
      problems({
        ...valid,
        WEBHOOK_URL: "https://cases.example.gov/hooks",
        WEBHOOK_SECRET: `whsec_${btoa("k".repeat(32))}`,
      }),
    ).toBe("");
  });

  it("takes a VAPID pair together or not at all, each the right length, and names the secret's command", () => {
    const publicKey = `B${"A".repeat(86)}`; // 87 base64url characters: 65 octets
    const privateKey = "A".repeat(43); // 32 octets
    expect(notifierEnvSchema.parse({ ...valid, VAPID_PUBLIC_KEY: "" })).toMatchObject({
      VAPID_PUBLIC_KEY: undefined,
      VAPID_SUBJECT: "mailto:noreply@council.example.gov",
      PUSH_TTL_SECONDS: 86_400,
    });
    expect(problems({ ...valid, VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey })).toBe("");
    expect(problems({ ...valid, VAPID_PUBLIC_KEY: publicKey })).toContain(
      "VAPID_PRIVATE_KEY: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are set together (or neither: no push)",
    );
    expect(problems({ ...valid, VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: "AAAA" })).toContain(
      "VAPID_PRIVATE_KEY: must be 32 octets (the P-256 private key) (set it with: npx wrangler secret put VAPID_PRIVATE_KEY",
    );
    expect(problems({ ...valid, VAPID_SUBJECT: "council" })).toContain(
      "VAPID_SUBJECT: must be a mailto: or https: URI",
    );
  });

  it("refuses malformed values with a reason", () => {
    expect(problems({ ...valid, TWILIO_ACCOUNT_SID: "AC123" })).toMatch(
      /TWILIO_ACCOUNT_SID: must be AC followed by 32 hex/,
    );
    expect(problems({ ...valid, TWILIO_FROM: "0871234567" })).toMatch(/TWILIO_FROM: must be an E.164 number/);
    expect(problems({ ...valid, NOTIFY_TIME_ZONE: "Mars/Olympus" })).toMatch(
      /NOTIFY_TIME_ZONE: must be an IANA time zone/,
    );
    expect(problems({ ...valid, SENDGRID_BASE_URL: "ftp://x" })).toMatch(/SENDGRID_BASE_URL/);
    expect(problems({ ...valid, HYPERDRIVE: undefined })).toMatch(/HYPERDRIVE must be a Hyperdrive binding/);
  });

  it("defaults and checks the settings for unknown citizens and unknown outcomes", () => {
    expect(notifierEnvSchema.parse(valid)).toMatchObject({
      UNKNOWN_CITIZEN_RETRY_SECONDS: 900,
      UNKNOWN_OUTCOME_VISIBILITY_SECONDS: 300,
      UNKNOWN_OUTCOME_POLICY: "resend",
      SENDGRID_EMAIL_ACTIVITY: false,
    });
    expect(
      notifierEnvSchema.parse({
        ...valid,
        UNKNOWN_CITIZEN_RETRY_SECONDS: "60",
        UNKNOWN_OUTCOME_VISIBILITY_SECONDS: "",
        UNKNOWN_OUTCOME_POLICY: "give_up",
        SENDGRID_EMAIL_ACTIVITY: "true",
      }),
    ).toMatchObject({
      UNKNOWN_CITIZEN_RETRY_SECONDS: 60,
      UNKNOWN_OUTCOME_VISIBILITY_SECONDS: 300,
      UNKNOWN_OUTCOME_POLICY: "give_up",
      SENDGRID_EMAIL_ACTIVITY: true,
    });
    expect(problems({ ...valid, UNKNOWN_OUTCOME_POLICY: "maybe" })).toMatch(/UNKNOWN_OUTCOME_POLICY/);
    expect(problems({ ...valid, SENDGRID_EMAIL_ACTIVITY: "yes" })).toMatch(/SENDGRID_EMAIL_ACTIVITY: must be "true"/);
    expect(problems({ ...valid, UNKNOWN_CITIZEN_RETRY_SECONDS: "100000" })).toMatch(/UNKNOWN_CITIZEN_RETRY_SECONDS/);
  });

  it("accepts a Messaging Service SID as sender", () => {
    expect(problems({ ...valid, TWILIO_FROM: `MG${"0".repeat(32)}` })).toBe("");
  });
});
