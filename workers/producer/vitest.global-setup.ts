/**
 * Real servers for the producer's workerd tests, started in Node and handed over with
 * `provide()`: the bridge's Upstash Redis REST gateway over the real Redis (dedup and rate
 * limits), and a recording Upstash Kafka REST server (the Kafka path's exact wire format), with
 * an inspection endpoint so tests inside workerd can read what it recorded.
 */
import { createServer, type Server } from "node:http";
import { tsImport } from "tsx/esm/api";
import type { TestProject } from "vitest/node";
import type { RunningRedisRestServer } from "../../bridges/redis-rest/serve.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { KafkaRestRecorder } from "../../test/contract/kafka-rest-recorder.ts";
import type { GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { requireService } from "../../test/support/services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Redis REST gateway URL, "" when Redis is not running (local runs skip those tests). */
    redisRestUrl: string;
    redisRestToken: string;
    kafkaRestUrl: string;
    kafkaRestUsername: string;
    kafkaRestPassword: string;
    /** `GET` → JSON `{requests, records}` of the Kafka REST recorder. */
    kafkaInspectUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const token = `producer-test-${crypto.randomUUID()}`;
  let gateway: RunningRedisRestServer | undefined;
  let gatewayUser: GatewayRedisUser | undefined;
  if (await requireService("redis", "producer (dedup and rate limits on real Redis)")) {
    // Loaded through Node (tsx), not Vite: this project resolves packages with workerd conditions,
    // under which ioredis's CommonJS named exports are not found (workers-sdk#6465).
    const { startRedisRestServer } = (await tsImport(
      "../../bridges/redis-rest/serve.ts",
      import.meta.url,
    )) as typeof import("../../bridges/redis-rest/serve.ts");
    const { createGatewayRedisUser } = (await tsImport(
      "../../test/support/redis-gateway-user.ts",
      import.meta.url,
    )) as typeof import("../../test/support/redis-gateway-user.ts");
    // As deployed: the gateway connects as its ACL user, limited to the default key patterns.
    gatewayUser = await createGatewayRedisUser(serviceUrls.redis, { keyPatterns: ["edgebus:*"] });
    const user = gatewayUser;
    gateway = await startRedisRestServer({ port: 0, redisUrl: user.url, token }).catch(async (error: unknown) => {
      await user.drop();
      throw error;
    });
  }

  const recorder = new KafkaRestRecorder("producer-test", "producer-secret");
  await recorder.start();
  const inspector: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ requests: recorder.requests, records: recorder.records }));
  });
  await new Promise<void>((resolve) => inspector.listen(0, "127.0.0.1", resolve));
  const address = inspector.address();
  const inspectPort = typeof address === "object" && address !== null ? address.port : 0;

  project.provide("redisRestUrl", gateway?.url ?? "");
  project.provide("redisRestToken", token);
  project.provide("kafkaRestUrl", recorder.url);
  project.provide("kafkaRestUsername", recorder.username);
  project.provide("kafkaRestPassword", recorder.password);
  project.provide("kafkaInspectUrl", `http://127.0.0.1:${inspectPort}/`);

  return async () => {
    await new Promise<void>((resolve) => inspector.close(() => resolve()));
    await recorder.stop();
    // Test events use random ids, so their dedup records and rate-limit counters never collide
    // with other suites; they expire on their own (24 h, and twice the rate-limit window).
    await gateway?.close();
    await gatewayUser?.drop();
  };
}
