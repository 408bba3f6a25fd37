import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";
import { LOCAL_PROVIDER_CREDENTIALS as credentials } from "../../scripts/local-provider.ts";

export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // exports.default.queue() (real dispatch, reports delaySeconds) needs this flag.
        compatibilityFlags: ["service_binding_extra_handlers"],
        hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
        // The real provider APIs, spoken by the local provider started in global-setup.ts.
        bindings: {
          SENDGRID_BASE_URL: inject("providerUrl"),
          SENDGRID_API_KEY: credentials.sendgridApiKey,
          TWILIO_BASE_URL: inject("providerUrl"),
          TWILIO_ACCOUNT_SID: credentials.twilioAccountSid,
          TWILIO_AUTH_TOKEN: credentials.twilioAuthToken,
          TWILIO_FROM: credentials.twilioFrom,
          WEBHOOK_URL: `${inject("providerUrl")}/webhooks/case-system`,
          WEBHOOK_SECRET: credentials.webhookSecret,
        },
      },
    })),
  ],
  test: {
    name: "notifier",
    include: ["src/**/*.test.ts"],
    // *.node.test.ts: unit tests of Node-testable modules, run by the "node" project.
    exclude: ["src/**/*.node.test.ts"],
    globalSetup: ["./global-setup.ts"],
  },
});
