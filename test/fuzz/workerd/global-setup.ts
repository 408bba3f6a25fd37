/**
 * Runs in Node before the producer's hostile-input suites: starts a real bridge (Upstash Kafka
 * REST over the real Kafka, Upstash Redis REST over a real Redis server of the suite's own) and
 * an inspection endpoint, and hands their addresses to workerd with `provide()`.
 *
 * The inspection endpoint (`GET`) answers `{dedupRecords, kafkaProduced}`: how many dedup
 * records exist in the suite's Redis database, and how many records Kafka acknowledged through
 * this bridge. The suites read it before and after every request to prove that nothing from a
 * rejected request reached Redis or Kafka.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { tsImport } from "tsx/esm/api";
import type { TestProject } from "vitest/node";
import type { RunningBridge } from "../../../bridges/server.ts";
import { isCI, serviceUrls } from "../../../scripts/service-probe.ts";
import { generateApiKey, hashApiKey } from "../../../workers/producer/src/auth/key-hash.ts";
import { requireService } from "../../support/services.ts";
import type { FuzzBridge } from "../support/fuzz-bridge.ts";
import { parseFuzzSettings } from "../support/fuzz-settings.ts";
import { type PrivateRedis, startPrivateRedis } from "../support/private-redis.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** null when Kafka is not running or redis-server is missing (local runs skip; CI fails). */
    fuzzBridge: FuzzBridge | null;
    fuzzRuns: number | null;
    fuzzSeed: number | null;
    /**
     * An admin key of the Worker's own env (`EDGEBUS_API_KEYS` binding of this project), for
     * suites that call the Worker through `SELF.fetch`: each call is a real request with its own
     * I/O context, whose sockets workerd closes when it ends (the admin routes rely on that).
     */
    fuzzAdminKey: string;
    fuzzApiKeys: string;
  }
}

const DEDUP_RECORD_PATTERN = "edgebus:dedup:event:*";

function producedCount(metricsText: string): number {
  const line = metricsText.split("\n").find((l) => l.startsWith("edgebus_bridge_kafka_rest_produced_total"));
  return line === undefined ? 0 : Number(line.trim().split(/\s+/).pop());
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const settings = parseFuzzSettings(process.env);
  const adminKey = generateApiKey();
  project.provide("fuzzAdminKey", adminKey);
  project.provide(
    "fuzzApiKeys",
    JSON.stringify([{ id: "fuzz-admin", hash: await hashApiKey(adminKey), sources: [], types: [], admin: true }]),
  );
  project.provide("fuzzRuns", settings.runs ?? null);
  project.provide("fuzzSeed", settings.seed ?? null);
  if (!(await requireService("kafka", "hostile-input suites (producer)"))) {
    project.provide("fuzzBridge", null);
    return async () => undefined;
  }
  // The machine's Redis is shared with other suites; counting keys needs one nobody else writes to.
  let privateRedis: PrivateRedis;
  try {
    privateRedis = await startPrivateRedis();
  } catch (error) {
    const message = `hostile-input suites (producer): ${(error as Error).message} — install Redis (redis-server on PATH)`;
    if (isCI) throw new Error(`${message} (CI=true: a missing server fails the run)`);
    console.warn(`SKIPPED ${message}`);
    project.provide("fuzzBridge", null);
    return async () => undefined;
  }

  const credentials = {
    kafkaUsername: "fuzz",
    kafkaPassword: randomBytes(18).toString("base64url"),
    redisToken: randomBytes(18).toString("base64url"),
  };
  // Loaded through Node (tsx), not Vite: ioredis and the Kafka client are CommonJS/Node-only.
  const { startBridge } = (await tsImport(
    "../../../bridges/server.ts",
    import.meta.url,
  )) as typeof import("../../../bridges/server.ts");
  const { parseBridgeConfig } = (await tsImport(
    "../../../bridges/config.ts",
    import.meta.url,
  )) as typeof import("../../../bridges/config.ts");
  // The gateway connects as its ACL user, as deployed (the server is private: no clean-up needed).
  const { createGatewayRedisUser } = (await tsImport(
    "../../support/redis-gateway-user.ts",
    import.meta.url,
  )) as typeof import("../../support/redis-gateway-user.ts");
  const gatewayUser = await createGatewayRedisUser(privateRedis.url, { keyPatterns: ["edgebus:*"] });
  const bridge: RunningBridge = await startBridge(
    parseBridgeConfig({
      port: 0,
      kafka: { brokers: serviceUrls.kafkaBrokers, clientId: "edgebus-fuzz" },
      kafkaRest: { username: credentials.kafkaUsername, password: credentials.kafkaPassword },
      redisRest: { url: gatewayUser.url, token: credentials.redisToken },
    }),
  );
  const { redisKeyCounter } = (await tsImport(
    "../support/redis-key-counter.ts",
    import.meta.url,
  )) as typeof import("../support/redis-key-counter.ts");
  const redis = redisKeyCounter(privateRedis.url);

  const inspector: Server = createServer((_req, res) => {
    Promise.all([redis.count(DEDUP_RECORD_PATTERN), fetch(`${bridge.url}/metrics`).then((r) => r.text())])
      .then(([dedupRecords, metrics]) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ dedupRecords, kafkaProduced: producedCount(metrics) }));
      })
      .catch((error: unknown) => {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: String(error) }));
      });
  });
  await new Promise<void>((resolve) => inspector.listen(0, "127.0.0.1", resolve));
  const address = inspector.address();
  const inspectPort = typeof address === "object" && address !== null ? address.port : 0;

  project.provide("fuzzBridge", {
    url: bridge.url,
    ...credentials,
    inspectUrl: `http://127.0.0.1:${inspectPort}/`,
  });

  return async () => {
    await new Promise<void>((resolve) => inspector.close(() => resolve()));
    await bridge.close();
    await redis.close();
    await privateRedis.stop();
  };
}
