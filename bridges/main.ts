/**
 * `npm run bridge -- --config bridge.yaml`: starts the bridge (bridges/server.ts) and owns the
 * process: signals, exit codes, startup errors. The only file in bridges/ that exits.
 * `npm run bridge -- --print-redis-acl [--config …]` prints the Redis REST gateway's ACL user
 * (`redis-rest/print-acl.ts`) and exits.
 * `npm run bridge -- topics apply [--dry-run]` / `topics check` applies or checks the catalogues'
 * topic settings (`topics-command.ts`) and exits.
 */
import { parseArgs } from "node:util";
import { isEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields, withoutCredentials } from "#shared/log.ts";
import { type BridgeConfig, loadBridgeConfig, parseBridgeConfig } from "./config.ts";
import { mirrorTargetsOf } from "./mirror/targets/create-targets.ts";
import { redisAclPrintout } from "./redis-rest/print-acl.ts";
import { startBridge } from "./server.ts";
import { runTopicsCommand } from "./topics-command.ts";
import { missingBridgeNodeOptions, tuneV8ForBridge } from "./v8-tuning.ts";

const log = createLogger({ component: "bridge" });

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      config: { type: "string", short: "c" },
      "print-redis-acl": { type: "boolean" },
      "dry-run": { type: "boolean", default: false },
      catalogues: { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals[0] === "topics") {
    // Only Kafka matters here: without a config file the REST gateways need no credentials.
    const file = values.config ?? process.env.BRIDGE_CONFIG;
    const config =
      file === undefined
        ? parseBridgeConfig({ kafkaRest: { enabled: false }, redisRest: { enabled: false } }, process.env)
        : await loadBridgeConfig(file, process.env);
    const catalogues = values.catalogues?.split(",").map((name) => name.trim());
    process.exitCode = await runTopicsCommand(
      config,
      { action: positionals[1], dryRun: values["dry-run"], ...(catalogues ? { catalogues } : {}) },
      (line) => process.stdout.write(`${line}\n`),
    );
    return;
  }
  if (positionals.length > 0) throw new Error(`unknown command ${positionals.join(" ")} (known: topics apply|check)`);
  if (values["print-redis-acl"]) {
    const { line, notes } = await redisAclPrintout(values.config ?? process.env.BRIDGE_CONFIG, process.env);
    process.stderr.write(`${notes}\n`);
    process.stdout.write(`${line}\n`);
    return;
  }
  const config = await loadBridgeConfig(values.config ?? process.env.BRIDGE_CONFIG, process.env);
  tuneV8ForBridge();
  const missing = missingBridgeNodeOptions();
  if (missing.length > 0)
    log.log("warn", `node was started without ${missing.join(" ")}`, {
      note: "the bridge works, but its memory will not be steady under load: V8 shrinks and regrows its heap every few minutes and lets garbage pile up longer between full collections; npm run bridge passes them (bridges/v8-tuning.ts)",
    });
  const bridge = await startBridge(config);
  const parts = [
    config.kafkaRest.enabled ? "/kafka" : undefined,
    config.redisRest.enabled ? "/redis" : undefined,
    config.mirror.secret
      ? `POST /v1/mirror → ${mirrorTargetsOf(config.mirror)
          .map((t) => ("url" in t ? `${t.name ?? t.kind} ${withoutCredentials(t.url)}` : (t.name ?? t.kind)))
          .join(" + ")}`
      : undefined,
    config.tls ? "HTTPS" : undefined,
    config.mirror.pull ? `mirror pull from ${withoutCredentials(config.mirror.pull.url)}` : undefined,
  ].filter(Boolean);
  log.log("info", "edgebus bridge listening", {
    url: bridge.url,
    note: `${parts.join(", ")}${usesKafka(config) ? `; Kafka ${config.kafka.brokers.join(",")}` : ""}`,
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
  // SIGHUP: serve the certificate and key files as they are now (a renewed certificate).
  process.on("SIGHUP", () => {
    if (!config.tls) {
      log.log("info", "SIGHUP: no tls configured; nothing to reload");
      return;
    }
    try {
      bridge.reloadTls();
      log.log("info", "TLS certificate reloaded", { note: config.tls.certFile });
    } catch (error) {
      log.log("error", "TLS certificate reload failed; still serving the previous one", {
        error_message: (error as Error).message,
      });
    }
  });
}

/** Whether the bridge opens Kafka clients (the Kafka REST gateway, a Kafka mirror target, the pull). */
function usesKafka(config: BridgeConfig): boolean {
  const kafkaTarget =
    config.mirror.secret !== undefined && mirrorTargetsOf(config.mirror).some((t) => t.kind === "kafka");
  return config.kafkaRest.enabled || kafkaTarget || config.mirror.pull !== undefined;
}

main().catch((error: unknown) => {
  log.log("error", "cannot start", isEdgebusError(error) ? { error_message: error.message } : errorLogFields(error));
  process.exit(1);
});
