/**
 * `npm run bridge -- --config bridge.yaml`: starts the bridge (bridges/server.ts) and owns the
 * process: signals, exit codes, startup errors. The only file in bridges/ that exits.
 */
import { parseArgs } from "node:util";
import { isEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields, withoutCredentials } from "#shared/log.ts";
import { loadBridgeConfig } from "./config.ts";
import { startBridge } from "./server.ts";

const log = createLogger({ component: "bridge" });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } }, allowPositionals: false });
  const config = await loadBridgeConfig(values.config ?? process.env.BRIDGE_CONFIG, process.env);
  const bridge = await startBridge(config);
  const parts = [
    config.kafkaRest.enabled ? "/kafka" : undefined,
    config.redisRest.enabled ? "/redis" : undefined,
    config.mirror.secret ? "POST /v1/mirror" : undefined,
    config.mirror.pull ? `mirror pull from ${withoutCredentials(config.mirror.pull.url)}` : undefined,
  ].filter(Boolean);
  log.log("info", "edgebus bridge listening", {
    url: bridge.url,
    note: `${parts.join(", ")}; Kafka ${config.kafka.brokers.join(",")}`,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.log("info", "closing: flushing the Kafka producer", { note: signal });
    const force = setTimeout(() => {
      log.log("error", "close took longer than 30 s; exiting");
      process.exit(1);
    }, 30_000);
    force.unref();
    bridge.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.log("error", "close failed", errorLogFields(error));
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  log.log("error", "cannot start", isEdgebusError(error) ? { error_message: error.message } : errorLogFields(error));
  process.exit(1);
});
