/// <reference types="vite/client" />
import { runConsumerConfigSuite } from "../../../test/support/consumer-wrangler-config.ts";
import wranglerToml from "../wrangler.toml?raw";

runConsumerConfigSuite("workers/archive/wrangler.toml", wranglerToml, {
  queue: "archive",
  deadLetterQueue: "archive-dlq",
});
