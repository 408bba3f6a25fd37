/**
 * Two bridge processes behind nginx (Debian's package, running the documented
 * `ops/bridge-lb/nginx.conf`), under load from Kafka REST producers (raw HTTP and the unmodified
 * `@upstash/kafka` client), Redis REST and the signed mirror ingest, with a Kafka REST consumer
 * instance pinned by the proxy's consistent hash. The bridge holding the consumer instance is
 * killed with SIGKILL mid-stream. Then:
 *
 * - no acknowledged event is lost: every produced and mirrored record the bridges acknowledged is
 *   in Kafka at the position they reported, and every acknowledged INCR counted;
 * - the consumer, re-created on the surviving bridge by its next consume, resumes on every
 *   partition exactly at the group's committed offset (read right after the kill), and ends up
 *   having seen every acknowledged record (again, for those consumed but not committed);
 * - clients saw only retryable errors: connection failures, 502/503/504 (nginx answers the
 *   documented JSON 503 when the bridge died mid-request), 429; and, for a commit addressed to
 *   the killed bridge's instance, the documented `404 no consumer instance` (the records it
 *   covered are delivered again).
 *
 * About 40 s; in the Node project, so CI runs it (`.ci/run` installs nginx).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { Kafka } from "@upstash/kafka";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIRROR_PATH, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { isCI, serviceUrls } from "../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../support/redis-gateway-user.ts";
import { requireService } from "../support/services.ts";
import {
  type ChildHandle,
  checkHaproxyConfig,
  HAPROXY,
  NGINX,
  renderHaproxyConfig,
  startBridge,
  startHaproxy,
  startNginx,
} from "./processes.ts";

const kafkaUp = await requireService("kafka", "scale-out (two bridges behind nginx)");
const redisUp = await requireService("redis", "scale-out (two bridges behind nginx)");
const nginxInstalled = existsSync(NGINX);
if (!nginxInstalled) {
  const message = `scale-out: ${NGINX} is missing — apt-get install nginx-light (or nginx)`;
  if (isCI) throw new Error(`${message} (CI=true: a missing tool fails the run)`);
  console.warn(`SKIPPED ${message}`);
}

const run = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
const topic = `edgebus.scaleout.${run}`;
const mirroredTopic = `scaleout-${run}.gov.auth.citizen`;
const group = `scaleout-${run}`;
const instance = "worker-1";
const PARTITIONS = 3;
const secrets = {
  username: "scaleout",
  password: randomBytes(16).toString("hex"),
  redisToken: randomBytes(16).toString("hex"),
  mirrorSecret: randomBytes(16).toString("hex"),
  redisReadOnlyToken: randomBytes(16).toString("hex"),
};
const basic = `Basic ${Buffer.from(`${secrets.username}:${secrets.password}`).toString("base64")}`;
const counterKey = `edgebus:scaleout:${run}:counter`;

interface Position {
  partition: number;
  offset: number;
}

/** What one client call ended in, when it did not succeed. */
interface Failure {
  readonly what: string;
  readonly status: number | "network";
  readonly message: string;
  readonly afterKill: boolean;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(kafkaUp && redisUp && nginxInstalled)("two bridges behind nginx, one killed under load", () => {
  let user: GatewayRedisUser;
  let bridges: ChildHandle[] = [];
  let nginx: ChildHandle;
  let admin: IORedis;
  let proxy: string;

  beforeAll(async () => {
    admin = new IORedis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    user = await createGatewayRedisUser(serviceUrls.redis, { keyPatterns: ["edgebus:*"] });
    const settings = {
      config: {
        kafka: {
          clientId: `scaleout-${run}`,
          topics: { createPatterns: ["edgebus.scaleout.*"], defaultPartitions: PARTITIONS },
        },
        kafkaRest: { consumerIdleTimeoutMs: 120_000 },
        mirror: { rename: [{ from: "gov.*", to: `scaleout-${run}.gov.*` }] },
        metrics: { kafka: { enabled: false } },
        topicEvents: { enabled: false },
      },
      env: {
        KAFKA_BROKERS: serviceUrls.kafkaBrokers.join(","),
        REDIS_URL: user.url,
        BRIDGE_KAFKA_REST_USERNAME: secrets.username,
        BRIDGE_KAFKA_REST_PASSWORD: secrets.password,
        BRIDGE_REDIS_REST_TOKEN: secrets.redisToken,
        BRIDGE_REDIS_REST_READONLY_TOKEN: secrets.redisReadOnlyToken,
        BRIDGE_MIRROR_SECRET: secrets.mirrorSecret,
      },
    };
    bridges = await Promise.all([startBridge(settings), startBridge(settings)]);
    nginx = await startNginx(bridges.map((b) => b.port));
    proxy = `http://127.0.0.1:${nginx.port}`;
  }, 180_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(bridges.map((b) => b.stop()));
    await admin?.del(counterKey).catch(() => undefined);
    await admin?.quit();
    await user?.drop();
  });

  it.runIf(existsSync(HAPROXY) || isCI)(
    "HAProxy, with the documented configuration, pins each consumer instance to one bridge",
    async () => {
      const check = await checkHaproxyConfig(await renderHaproxyConfig(8080, [8001, 8002]));
      expect(check.ok, check.output).toBe(true);
      const haproxy = await startHaproxy(bridges.map((b) => b.port));
      try {
        const base = `http://127.0.0.1:${haproxy.port}`;
        // Health checks first mark both bridges up.
        await sleep(500);
        const servedBy = async (path: string) => {
          const res = await fetch(`${base}${path}`, {
            method: "POST",
            headers: { authorization: basic, "content-type": "application/json" },
            body: JSON.stringify([{ topic: `edgebus.scaleout.${run}.pin`, partition: 0 }]),
          });
          await res.text();
          return res.headers.get("x-edgebus-bridge");
        };
        const pinned = new Set<string | null>();
        for (let key = 0; key < 16; key++) {
          const answers = new Set<string | null>();
          // committed/{g}/{i} is pinned like consume and commit, and answers without joining a group.
          for (let call = 0; call < 3; call++) answers.add(await servedBy(`/kafka/committed/pin-${run}-${key}/i`));
          expect(answers.size, `pin-${key} went to ${[...answers].join(", ")}`).toBe(1);
          pinned.add([...answers][0] ?? null);
        }
        // Different instances spread over both bridges.
        expect(pinned).toEqual(new Set(["bridge-1", "bridge-2"]));
      } finally {
        await haproxy.stop();
      }
    },
    60_000,
  );

  it("streams Redis pub/sub through nginx to @upstash/redis subscribers of either bridge", async () => {
    const channel = `edgebus:scaleout:${run}:chat`;
    const client = (token: string) =>
      new Redis({ url: `${proxy}/redis`, token, retry: { retries: 0 }, enableTelemetry: false });
    // Requests are spread by request id: with four subscribers, both bridges hold some.
    const received: unknown[][] = [[], [], [], []];
    let subscribed = 0;
    const subscribers = received.map((list, i) => {
      const subscriber = client(i % 2 === 0 ? secrets.redisToken : secrets.redisReadOnlyToken).subscribe([channel]);
      subscriber.on("subscribe", () => {
        subscribed += 1;
      });
      subscriber.on("message", (event) => list.push((event as { message: unknown }).message));
      return subscriber;
    });
    const deadline = Date.now() + 10_000;
    while (subscribed < 4 && Date.now() < deadline) await sleep(50);
    expect(subscribed).toBe(4);
    const publisher = client(secrets.redisToken);
    expect(await publisher.publish(channel, { n: 1 })).toBe(4);
    await expect(client(secrets.redisReadOnlyToken).publish(channel, { n: 2 })).rejects.toThrow(/NOPERM/);
    while (received.some((list) => list.length === 0) && Date.now() < deadline) await sleep(50);
    expect(received).toEqual([[{ n: 1 }], [{ n: 1 }], [{ n: 1 }], [{ n: 1 }]]);
    for (const subscriber of subscribers) await subscriber.unsubscribe();
    while ((await publisher.publish(channel, { n: 3 })) > 0 && Date.now() < deadline + 5_000) await sleep(100);
    expect(await publisher.publish(channel, { n: 4 })).toBe(0);
  }, 30_000);

  it("loses no acknowledged event, resumes the consumer from its committed offsets, and shows only retryable errors", async () => {
    const failures: Failure[] = [];
    let killedAt: number | undefined;
    let stopLoad = false;
    const note = (what: string, status: number | "network", message: string) =>
      failures.push({ what, status, message, afterKill: killedAt !== undefined });

    /** One call through the proxy; a failure is noted and answered with undefined. */
    async function call(
      what: string,
      path: string,
      init: RequestInit,
    ): Promise<{ body: unknown; bridge: string | null } | undefined> {
      let res: Response;
      try {
        res = await fetch(`${proxy}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
      } catch (error) {
        note(what, "network", (error as Error).message);
        return undefined;
      }
      const text = await res.text().catch(() => "");
      if (!res.ok) {
        note(what, res.status, text.slice(0, 200));
        return undefined;
      }
      return { body: JSON.parse(text) as unknown, bridge: res.headers.get("x-edgebus-bridge") };
    }
    const kafkaHeaders = { authorization: basic, "content-type": "application/json" };

    // The topic, with its partitions, before the load (the first produce creates it).
    const created = await call("create", `/kafka/produce/${topic}`, {
      method: "POST",
      headers: kafkaHeaders,
      body: JSON.stringify({ value: "first" }),
    });
    expect(created, JSON.stringify(failures)).toBeDefined();
    const acked = new Map<string, Position>([["first", ((created?.body ?? []) as Position[])[0] as Position]]);

    // Producers: raw HTTP, retrying what is retryable with the same values (at-least-once).
    const producer = async (id: number) => {
      for (let batch = 0; !stopLoad; batch++) {
        const values = Array.from({ length: 5 }, (_, i) => `raw-${id}-${batch}-${i}`);
        for (let attempt = 0; attempt < 20 && !stopLoad; attempt++) {
          const answer = await call("produce", "/kafka/produce", {
            method: "POST",
            headers: kafkaHeaders,
            body: JSON.stringify(values.map((value) => ({ topic, value }))),
          });
          if (answer) {
            for (const [i, position] of (answer.body as Position[]).entries()) acked.set(values[i] as string, position);
            break;
          }
          await sleep(100);
        }
      }
    };
    // The unmodified client, whose own retries (6 attempts over ~15 s) cover a failover.
    const kafkaClient = new Kafka({ url: `${proxy}/kafka`, username: secrets.username, password: secrets.password });
    let clientThrew: unknown;
    const clientProducer = async () => {
      for (let n = 0; !stopLoad; n++) {
        const value = `client-${n}`;
        try {
          const position = await kafkaClient.producer().produce(topic, value);
          acked.set(value, position);
        } catch (error) {
          clientThrew = error;
          return;
        }
      }
    };
    // Redis REST: INCR, counted when acknowledged.
    let incrAcked = 0;
    const redisLoad = async () => {
      while (!stopLoad) {
        const answer = await call("redis", "/redis/pipeline", {
          method: "POST",
          headers: { authorization: `Bearer ${secrets.redisToken}` },
          body: JSON.stringify([["INCR", counterKey]]),
        });
        if (answer) incrAcked += 1;
        else await sleep(100);
      }
    };
    // The mirror ingest: signed batches, each acknowledged event with its position.
    const mirrorAcked = new Map<string, Position>();
    const mirrorLoad = async () => {
      for (let batch = 0; !stopLoad; batch++) {
        const events = Array.from({ length: 5 }, (_, i) => ({
          specversion: "1.0",
          id: `m-${run}-${batch}-${i}`,
          source: "/scale-out",
          type: "gov.auth.citizen.created",
          time: new Date().toISOString(),
          data: { batch, i },
        }));
        const body = JSON.stringify({ events });
        for (let attempt = 0; attempt < 20 && !stopLoad; attempt++) {
          // Signed per attempt: a nonce is accepted once.
          const answer = await call("mirror", MIRROR_PATH, {
            method: "POST",
            headers: { "content-type": "application/json", ...(await signMirrorRequest(secrets.mirrorSecret, body)) },
            body,
          });
          if (answer) {
            for (const result of mirrorResponseSchema.parse(answer.body).results) {
              if (result.status === "acked" && result.offset !== undefined && result.partition !== undefined) {
                mirrorAcked.set(result.id, { partition: result.partition, offset: Number(result.offset) });
              } else {
                note("mirror", 200, JSON.stringify(result).slice(0, 200));
              }
            }
            break;
          }
          await sleep(100);
        }
      }
    };

    // The consumer: one instance, pinned by the proxy; commits what it got after each answer.
    const consumed = new Set<string>();
    let committedBatches = 0;
    let instanceLost = 0;
    let consumingBridge: string | null = null;
    let victimAddress: string | undefined;
    let committedAtKill: Map<number, number> | undefined;
    /** Per partition, the first offset the instance re-created after the kill returned. */
    const resumedAt = new Map<number, number>();
    let consuming = true;
    const consumer = async () => {
      const headers = {
        ...kafkaHeaders,
        "kafka-auto-offset-reset": "earliest",
        "kafka-enable-auto-commit": "false",
        // A dead member leaves the group after this, so the re-created instance gets its partitions.
        "kafka-session-timeout-ms": "6000",
      };
      while (consuming) {
        const answer = await call("consume", `/kafka/consume/${group}/${instance}`, {
          method: "POST",
          headers,
          body: JSON.stringify({ topic, timeout: 1000 }),
        });
        if (!answer) {
          await sleep(200);
          continue;
        }
        const records = answer.body as (Position & { value: string })[];
        if (killedAt === undefined) consumingBridge = answer.bridge;
        const next = new Map<number, number>();
        for (const record of records) {
          consumed.add(record.value);
          // An answer the victim sent before it died is not a resumption.
          const resumed = killedAt !== undefined && answer.bridge !== victimAddress;
          if (resumed && !resumedAt.has(record.partition)) resumedAt.set(record.partition, record.offset);
          next.set(record.partition, Math.max(next.get(record.partition) ?? 0, record.offset + 1));
        }
        if (next.size === 0) continue;
        const commit = await fetch(`${proxy}/kafka/commit/${group}/${instance}`, {
          method: "POST",
          headers: kafkaHeaders,
          body: JSON.stringify([...next].map(([partition, offset]) => ({ topic, partition, offset }))),
        }).catch((error: Error) => {
          note("commit", "network", error.message);
          return undefined;
        });
        if (!commit) continue;
        const text = await commit.text();
        if (commit.ok) committedBatches += 1;
        else if (commit.status === 404 && text.includes("no consumer instance")) instanceLost += 1;
        else note("commit", commit.status, text.slice(0, 200));
      }
    };

    const load = [...Array.from({ length: 3 }, (_, i) => producer(i)), clientProducer(), redisLoad(), mirrorLoad()];
    const consuming$ = consumer();

    // Mid-stream: the consumer has read and committed, every load is flowing.
    const warmDeadline = Date.now() + 60_000;
    while (committedBatches < 3 || mirrorAcked.size === 0 || incrAcked === 0 || acked.size < 200) {
      if (Date.now() > warmDeadline) {
        const counts = {
          committedBatches,
          mirrored: mirrorAcked.size,
          incrAcked,
          acked: acked.size,
          consumed: consumed.size,
        };
        throw new Error(`no steady load: ${JSON.stringify(counts)} ${JSON.stringify(failures.slice(0, 5))}`);
      }
      await sleep(100);
    }
    const victim = bridges.find((b) => consumingBridge === `127.0.0.1:${b.port}`);
    expect(victim, `consume answered by ${consumingBridge}`).toBeDefined();
    const survivor = bridges.find((b) => b !== victim) as ChildHandle;
    victimAddress = consumingBridge ?? undefined;
    killedAt = Date.now();
    await victim?.kill();
    const ackedAtKill = acked.size;
    // Stateless: any bridge answers /committed (a Kafka admin call).
    const committed = await call("committed", `/kafka/committed/${group}/${instance}`, {
      method: "POST",
      headers: kafkaHeaders,
      body: JSON.stringify(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }))),
    });
    committedAtKill = new Map(((committed?.body ?? []) as Position[]).map((p) => [p.partition, p.offset]));

    // The load goes on through the survivor.
    const afterKill = Date.now() + 5_000;
    while (Date.now() < afterKill || acked.size < ackedAtKill + 100) {
      if (Date.now() > afterKill + 30_000) break;
      await sleep(100);
    }
    stopLoad = true;
    await Promise.all(load);

    // The consumer catches up with everything acknowledged.
    const drainDeadline = Date.now() + 60_000;
    while ([...acked.keys()].some((value) => !consumed.has(value)) && Date.now() < drainDeadline) await sleep(200);
    consuming = false;
    await consuming$;

    // 1. Nothing acknowledged is lost: each record is in Kafka where the bridge said it is.
    const stored = await readTopic(topic);
    for (const [value, position] of acked) {
      expect(stored.get(`${position.partition}:${position.offset}`), value).toBe(value);
    }
    const mirrored = await readTopic(mirroredTopic);
    for (const [id, position] of mirrorAcked) {
      // Binary mode: the event's id travels in the ce_id header.
      expect(mirrored.get(`${position.partition}:${position.offset}`), id).toContain(`{"key":"ce_id","value":"${id}"}`);
    }
    expect(Number(await admin.get(counterKey))).toBeGreaterThanOrEqual(incrAcked);
    expect(clientThrew).toBeUndefined();

    // 2. The consumer resumed exactly at the committed offsets, and saw every acknowledged record.
    expect(resumedAt.size).toBe(PARTITIONS);
    for (const [partition, offset] of resumedAt) {
      const committedOffset = committedAtKill.get(partition) ?? -1;
      expect(offset, `partition ${partition}`).toBe(Math.max(committedOffset, 0));
    }
    expect([...acked.keys()].filter((value) => !consumed.has(value))).toEqual([]);

    // 3. Only retryable failures, and only around the kill.
    const unexpected = failures.filter((f) => f.status !== "network" && !RETRYABLE_STATUSES.has(f.status));
    expect(unexpected).toEqual([]);
    expect(failures.filter((f) => !f.afterKill)).toEqual([]);
    expect(instanceLost).toBeLessThanOrEqual(1);
    expect(survivor.alive()).toBe(true);
    console.info(
      `scale-out: ${acked.size} records, ${mirrorAcked.size} mirrored events and ${incrAcked} INCRs acknowledged; ` +
        `${consumed.size} distinct records consumed; ${failures.length} retryable failures after the kill ` +
        `(${[...new Set(failures.map((f) => f.status))].join(", ") || "none"}); commits to the lost instance: ${instanceLost}; ` +
        `committed at the kill ${JSON.stringify([...committedAtKill])}, resumed at ${JSON.stringify([...resumedAt])}`,
    );

    /** Every record of `name` by `partition:offset`: its value (and headers, if any), read back with /fetch. */
    async function readTopic(name: string): Promise<Map<string, string>> {
      const ends = await call("offsets", "/kafka/offsets/latest", {
        method: "POST",
        headers: kafkaHeaders,
        body: JSON.stringify(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: name, partition }))),
      });
      const found = new Map<string, string>();
      for (const { partition, offset: end } of (ends?.body ?? []) as Position[]) {
        let offset = 0;
        while (offset < end) {
          const page = await call("fetch", "/kafka/fetch", {
            method: "POST",
            headers: kafkaHeaders,
            body: JSON.stringify({ topic: name, partition, offset, timeout: 1000 }),
          });
          const records = (page?.body ?? []) as (Position & { value: string; headers: unknown[] })[];
          if (records.length === 0) break;
          for (const record of records) {
            const text =
              record.headers.length === 0 ? record.value : `${record.value} ${JSON.stringify(record.headers)}`;
            found.set(`${record.partition}:${record.offset}`, text);
          }
          offset = (records.at(-1) as Position).offset + 1;
        }
      }
      return found;
    }
  }, 240_000);
});
