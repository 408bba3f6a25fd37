/// <reference types="vite/client" />
import { runConsumerConfigSuite } from "../../../test/support/consumer-wrangler-config.ts";
import permitsToml from "../wrangler.permits.toml?raw";
import revenueToml from "../wrangler.revenue.toml?raw";

runConsumerConfigSuite("workers/citizen-sync/wrangler.permits.toml", permitsToml, {
  queue: "permits-citizen-sync",
  deadLetterQueue: "permits-citizen-sync-dlq",
});
runConsumerConfigSuite("workers/citizen-sync/wrangler.revenue.toml", revenueToml, {
  queue: "revenue-citizen-sync",
  deadLetterQueue: "revenue-citizen-sync-dlq",
});
