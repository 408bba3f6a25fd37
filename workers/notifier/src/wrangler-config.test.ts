/// <reference types="vite/client" />
import { runConsumerConfigSuite } from "../../../test/support/consumer-wrangler-config.ts";
import wranglerToml from "../wrangler.toml?raw";

runConsumerConfigSuite("workers/notifier/wrangler.toml", wranglerToml, {
  queue: "notifications",
  deadLetterQueue: "notifications-dlq",
});
