/**
 * `npm run bridge -- --config bridge.yaml`: starts the bridge (bridges/server.ts) and owns the
 * process: signals, exit codes, startup errors. The only file in bridges/ that exits.
 */
import { parseArgs } from "node:util";
import { isEdgebusError } from "#shared/errors.ts";
import { loadBridgeConfig } from "./config.ts";
import { startBridge } from "./server.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } }, allowPositionals: false });
  const config = await loadBridgeConfig(values.config ?? process.env.BRIDGE_CONFIG, process.env);
  const bridge = await startBridge(config);
  const parts = [
    config.kafkaRest.enabled ? "/kafka" : undefined,
    config.redisRest.enabled ? "/redis" : undefined,
    config.mirror.secret ? "POST /v1/mirror" : undefined,
    config.mirror.pull ? `mirror pull from ${config.mirror.pull.url}` : undefined,
  ].filter(Boolean);
  console.log(
    `edgebus bridge listening on ${bridge.url} (${parts.join(", ")}; Kafka ${config.kafka.brokers.join(",")})`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`edgebus bridge: ${signal}, closing (flushing the Kafka producer)`);
    const force = setTimeout(() => {
      console.error("edgebus bridge: close took longer than 30 s, exiting");
      process.exit(1);
    }, 30_000);
    force.unref();
    bridge.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("edgebus bridge: close failed", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(`edgebus bridge: cannot start: ${isEdgebusError(error) ? error.message : String(error)}`);
  process.exit(1);
});
