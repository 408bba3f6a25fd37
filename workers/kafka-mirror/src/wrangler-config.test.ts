/// <reference types="vite/client" />
import { runConsumerConfigSuite } from "../../../test/support/consumer-wrangler-config.ts";
import wranglerToml from "../wrangler.toml?raw";

runConsumerConfigSuite("workers/kafka-mirror/wrangler.toml", wranglerToml, {
  queue: "kafka-mirror",
  deadLetterQueue: "kafka-mirror-dlq",
});
