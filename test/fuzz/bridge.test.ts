/**
 * Hostile input against a real bridge process (Kafka REST on the real Kafka, Redis REST on a
 * private redis-server, signed mirror ingest): wrong Basic/Bearer credentials, forged, stale,
 * future-dated, wrong-length, nonce-less and replayed HMAC signatures, truncated and
 * byte-corrupted bodies, hostile values in every field, odd content types, oversize bodies and
 * 100 KB headers, deep nesting, huge numbers, unknown routes, chunked floods of up to 300 MB on
 * every area, and scoped Kafka REST logins reaching past their topics and groups. Every answer
 * must be below 500, every rejection must carry a code and a reason, nothing of a rejected request
 * may reach Kafka or Redis, and the process must keep serving without logging an internal error.
 * The suite prints the bridge's RSS before and after.
 *
 * Runs per property: EDGEBUS_FUZZ_RUNS (full form) or the short defaults below (CI).
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIRROR_PATH } from "#shared/mirror-protocol.ts";
import { NONCE_HEADER, SIGNATURE_HEADER, signMirrorRequest, TIMESTAMP_HEADER } from "#shared/mirror-signature.ts";
import { requireService } from "../support/services.ts";
import { bridgeRejectionProblem } from "./bridge-answers.ts";
import { type BridgeBackendState, type BridgeProcess, startBridgeProcess } from "./support/bridge-process.ts";
import { chunkedFlood, megabytes, residentBytes } from "./support/chunked-flood.ts";
import { FuzzTally, fuzzParameters, fuzzTimeoutMs, parseFuzzSettings } from "./support/fuzz-settings.ts";
import {
  contentTypes,
  corruptedBytes,
  DEEP_NESTING,
  deeplyNested,
  hostileValue,
  injectionString,
  oversizeHeaderValue,
  serialiseHostile,
  valuePaths,
  wrongAuthorizations,
} from "./support/hostile-inputs.ts";
import { httpExchange } from "./support/http-exchange.ts";

const settings = parseFuzzSettings(process.env);
const tally = new FuzzTally("bridge");
const available = await requireService("kafka", "bridge hostile-input fuzz");

/** With the u flag a valid surrogate pair is one code point, so only a lone surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A topic of the suite's own, so produced records are easy to tell apart from other suites'. */
const TOPIC = "edgebus.fuzz.bridge";
/** A topic only the full-access login may produce to. */
const OTHER_TOPIC = "edgebus.fuzz.restricted";

/**
 * Scoped logins beside the full-access one (BRIDGE_KAFKA_REST_CREDENTIALS): one that may only
 * produce to TOPIC, one that may only read TOPIC in groups `fuzz-readers*`.
 */
const SCOPED = {
  producer: {
    username: "fuzz-producer",
    password: "fuzz-producer-password-01",
    produce: [TOPIC],
    fetch: [],
    groups: [],
  },
  reader: {
    username: "fuzz-reader",
    password: "fuzz-reader-password-0001",
    produce: [],
    fetch: [TOPIC],
    groups: ["fuzz-readers*"],
  },
} as const;

type ExchangeInit = Parameters<typeof httpExchange>[1];

interface Exchange {
  readonly request: string;
  readonly path: string;
  readonly status: number;
  readonly text: string;
  readonly delta: BridgeBackendState;
}

function validCloudEvent(): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/services/fuzz",
    type: "gov.fuzz.probe.sent",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    partitionkey: "probe-1",
    data: { n: 1, note: "fuzz" },
  };
}

describe.runIf(available)("bridge under hostile input", { timeout: fuzzTimeoutMs(settings) }, () => {
  let bridge: BridgeProcess;
  let basic: string;
  let bearerToken: string;

  let rssBefore = 0;

  beforeAll(async () => {
    bridge = await startBridgeProcess({
      env: { BRIDGE_KAFKA_REST_CREDENTIALS: JSON.stringify(Object.values(SCOPED)) },
    });
    basic = `Basic ${btoa(`${bridge.secrets.kafkaUsername}:${bridge.secrets.kafkaPassword}`)}`;
    bearerToken = `Bearer ${bridge.secrets.redisToken}`;
    // Both topics exist before the scoped logins are tried on them.
    for (const topic of [TOPIC, OTHER_TOPIC]) {
      const created = await httpExchange(`${bridge.url}/kafka/produce`, {
        method: "POST",
        headers: { authorization: basic, "content-type": "application/json" },
        body: JSON.stringify({ topic, value: "setup" }),
      });
      expect(created.status, created.text).toBe(200);
    }
    rssBefore = await residentBytes(bridge.pid);
  }, 90_000);

  afterAll(async () => {
    tally.print();
    if (bridge) {
      console.log(
        `fuzz bridge › RSS: ${megabytes(rssBefore)} before the properties, ${megabytes(await residentBytes(bridge.pid).catch(() => 0))} after`,
      );
    }
    await bridge?.stop();
  });

  async function exchange(path: string, init: ExchangeInit): Promise<Exchange> {
    const before = await bridge.state();
    const { status, text } = await httpExchange(`${bridge.url}${path}`, init);
    const after = await bridge.state();
    return {
      request: `${init.method ?? "GET"} ${path.slice(0, 120)}`,
      path,
      status,
      text,
      delta: {
        kafkaProduced: after.kafkaProduced - before.kafkaProduced,
        mirrorAcked: after.mirrorAcked - before.mirrorAcked,
        redisKeys: after.redisKeys - before.redisKeys,
      },
    };
  }

  /** The invariants of every answer; returns the status for the tally. */
  function expectInvariants(ex: Exchange): number {
    const what = `${ex.request} → ${ex.status} ${ex.text.slice(0, 300)}`;
    expect(ex.status, what).toBeLessThan(500);
    if (ex.status >= 400) {
      expect(bridgeRejectionProblem(ex.path, ex.status, ex.text), what).toBeUndefined();
      expect(ex.delta, `${what}: a rejected request reached Kafka or Redis`).toEqual({
        kafkaProduced: 0,
        mirrorAcked: 0,
        redisKeys: 0,
      });
    }
    return ex.status;
  }

  async function check(property: string, path: string, init: ExchangeInit): Promise<Exchange> {
    const ex = await exchange(path, init);
    tally.record(property, expectInvariants(ex));
    return ex;
  }

  const produceMessage = () => ({
    topic: TOPIC,
    value: JSON.stringify({ probe: crypto.randomUUID() }),
    key: "k-1",
    partition: 0,
    timestamp: Date.now(),
    headers: [{ key: "ce_id", value: "1" }],
  });

  it("Kafka REST: wrong Basic credentials never produce", async () => {
    const property = "kafka wrong credentials";
    await fc.assert(
      fc.asyncProperty(wrongAuthorizations("Basic"), async (authorization) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (authorization !== undefined) headers.authorization = authorization;
        const ex = await check(property, "/kafka/produce", {
          method: "POST",
          headers,
          body: JSON.stringify(produceMessage()),
        });
        // 431: a 100 KB credential is refused by the HTTP parser before auth runs.
        expect([401, 431], ex.text).toContain(ex.status);
      }),
      fuzzParameters(settings, 40),
    );
  });

  it("Kafka REST: a hostile value in any field of a produce request", async () => {
    const property = "kafka produce field";
    const document = [produceMessage()];
    await fc.assert(
      fc.asyncProperty(
        fc.record({ path: fc.constantFrom(...valuePaths(document)), value: hostileValue }, { requiredKeys: ["path"] }),
        async ({ path, value }) => {
          const body = serialiseHostile([produceMessage()], path, value);
          const ex = await check(property, "/kafka/produce", {
            method: "POST",
            headers: { authorization: basic, "content-type": "application/json" },
            body,
          });
          if (ex.status === 200) expect(ex.delta.kafkaProduced, ex.text).toBe(1);
        },
      ),
      fuzzParameters(settings, 120),
    );
  });

  it("Kafka REST: hostile topics and messages in the path forms", async () => {
    const property = "kafka produce path";
    const segment = fc.oneof(
      injectionString.map((text) => {
        try {
          return encodeURIComponent(text);
        } catch {
          return "%ED%A0%80";
        }
      }),
      fc.constantFrom("%", "%zz", "..", "%2e%2e", "%00", TOPIC, "a".repeat(300)),
    );
    await fc.assert(
      fc.asyncProperty(segment, segment, fc.boolean(), async (topic, message, get) => {
        if (get) {
          await check(property, `/kafka/produce/${topic}/${message}`, { headers: { authorization: basic } });
        } else {
          await check(property, `/kafka/produce/${topic}`, {
            method: "POST",
            headers: { authorization: basic, "content-type": "application/json" },
            body: JSON.stringify({ value: decodeURIComponentSafe(message) }),
          });
        }
      }),
      fuzzParameters(settings, 60),
    );
  });

  it("Kafka REST and Redis REST: truncated, corrupted, nested, oversize and mistyped bodies", async () => {
    const property = "malformed bodies";
    const targets = fc.constantFrom(
      { path: "/kafka/produce", auth: () => basic, text: () => JSON.stringify([produceMessage()]) },
      {
        path: "/kafka/fetch",
        auth: () => basic,
        text: () => JSON.stringify({ topic: TOPIC, partition: 0, offset: 0 }),
      },
      {
        path: "/redis",
        auth: () => bearerToken,
        text: () => JSON.stringify(["set", `fuzz:${crypto.randomUUID()}`, "v"]),
      },
      {
        path: "/redis/pipeline",
        auth: () => bearerToken,
        text: () => JSON.stringify([["set", `fuzz:${crypto.randomUUID()}`, "v"]]),
      },
      {
        path: "/redis/multi-exec",
        auth: () => bearerToken,
        text: () => JSON.stringify([["set", `fuzz:${crypto.randomUUID()}`, "v"]]),
      },
    );
    const damage = fc.oneof(
      fc.constant({ kind: "truncated" as const }),
      fc.constant({ kind: "corrupted" as const }),
      fc
        .constantFrom("array", "object")
        .map((shape) => ({ kind: "nested" as const, shape: shape as "array" | "object" })),
      fc
        .constantFrom("1e400", "-0", "18446744073709551616", "[1e400]")
        .map((text) => ({ kind: "number" as const, text })),
      fc.constant({ kind: "oversize" as const }),
      contentTypes(["application/json"]).map((contentType) => ({ kind: "content type" as const, contentType })),
    );
    await fc.assert(
      fc.asyncProperty(targets, damage, fc.nat(), async (target, harm, seed) => {
        const valid = target.text();
        let body: string | Uint8Array = valid;
        let contentType: string | undefined = "application/json";
        if (harm.kind === "truncated") body = valid.slice(0, seed % valid.length);
        else if (harm.kind === "corrupted") body = fc.sample(corruptedBytes(valid), { seed, numRuns: 1 })[0] ?? valid;
        else if (harm.kind === "nested") body = deeplyNested(DEEP_NESTING, harm.shape);
        else if (harm.kind === "number") body = harm.text;
        else if (harm.kind === "oversize") body = `["set","fuzz:big","${"x".repeat(2 * 1_048_576)}"]`;
        else contentType = harm.contentType;
        const headers: Record<string, string> = { authorization: target.auth() };
        if (contentType !== undefined) headers["content-type"] = contentType;
        const ex = await check(property, target.path, { method: "POST", headers, body });
        // Nothing but the unharmed body, sent with a JSON content type, may be accepted.
        if (ex.status < 400 && harm.kind !== "content type") {
          expect(
            harm.kind === "corrupted" || harm.kind === "truncated",
            `${ex.request} accepted a ${harm.kind} body`,
          ).toBe(true);
        }
      }),
      fuzzParameters(settings, 150),
    );
  });

  it("Redis REST: wrong Bearer tokens never touch Redis; hostile keys and values are stored verbatim", async () => {
    const property = "redis commands";
    const redis = new Redis(bridge.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.option(wrongAuthorizations("Bearer"), { nil: null }),
          injectionString,
          injectionString,
          async (wrongAuth, key, value) => {
            const headers: Record<string, string> = { "content-type": "application/json" };
            const fullKey = `fuzz:${key}`;
            if (wrongAuth === null) headers.authorization = bearerToken;
            else if (wrongAuth !== undefined) headers.authorization = wrongAuth;
            const ex = await check(property, "/redis", {
              method: "POST",
              headers,
              body: JSON.stringify(["set", fullKey, value]),
            });
            if (wrongAuth !== null) {
              expect([401, 431], ex.text).toContain(ex.status);
              return;
            }
            expect(ex.status, ex.text).toBe(200);
            // JSON carries lone surrogates; Redis stores bytes, so only well-formed text survives as is.
            if (!LONE_SURROGATE.test(fullKey) && !LONE_SURROGATE.test(value))
              expect(await redis.get(fullKey)).toBe(value);
          },
        ),
        fuzzParameters(settings, 80),
      );
    } finally {
      await redis.quit();
    }
  });

  describe("mirror ingest", () => {
    const mirrorBody = () => JSON.stringify({ events: [validCloudEvent()] });
    const now = () => Math.floor(Date.now() / 1000);

    /** Headers that must not pass verification, and what is wrong with them. */
    const forgery = fc.oneof(
      fc.constant({ kind: "none" as const }),
      fc.integer({ min: 301, max: 10_000_000 }).map((age) => ({ kind: "stale" as const, age })),
      fc.integer({ min: 301, max: 10_000_000 }).map((ahead) => ({ kind: "future" as const, ahead })),
      fc.stringMatching(/^[0-9a-f]{0,128}$/).map((hex) => ({ kind: "random hex" as const, hex })),
      fc.constant({ kind: "wrong secret" as const }),
      fc.constant({ kind: "upper-case hex" as const }),
      fc.nat({ max: 63 }).map((cut) => ({ kind: "truncated signature" as const, cut })),
      fc.constant({ kind: "other body signed" as const }),
      fc.constant({ kind: "v1 scheme" as const }),
      fc
        .constantFrom("", "-1", "1e10", "0x10", "99999999999999", "now", " 1", "1.5")
        .map((timestamp) => ({ kind: "odd timestamp" as const, timestamp })),
      fc.constant({ kind: "no nonce" as const }),
      fc.constant({ kind: "other nonce" as const }),
      fc
        .constantFrom("", "short", "x".repeat(129), "has space in it!!", "ünïcödé-nonce-000", "../../etc/passwd..")
        .map((nonce) => ({ kind: "odd nonce" as const, nonce })),
    );

    it("forged, stale, future-dated and wrong-length signatures are refused with 401", async () => {
      const property = "mirror forged signature";
      await fc.assert(
        fc.asyncProperty(forgery, async (forged) => {
          const body = mirrorBody();
          const secret = bridge.secrets.mirrorSecret;
          let headers: Record<string, string> = {};
          if (forged.kind === "stale") headers = await signMirrorRequest(secret, body, now() - forged.age);
          if (forged.kind === "future") headers = await signMirrorRequest(secret, body, now() + forged.ahead);
          if (forged.kind === "random hex")
            headers = {
              [TIMESTAMP_HEADER]: String(now()),
              [NONCE_HEADER]: crypto.randomUUID().replace(/-/g, ""),
              [SIGNATURE_HEADER]: `v2=${forged.hex}`,
            };
          if (forged.kind === "wrong secret") headers = await signMirrorRequest(`${secret}x`, body);
          if (
            forged.kind === "upper-case hex" ||
            forged.kind === "truncated signature" ||
            forged.kind === "v1 scheme"
          ) {
            headers = await signMirrorRequest(secret, body);
            const signature = headers[SIGNATURE_HEADER] ?? "";
            headers[SIGNATURE_HEADER] =
              forged.kind === "upper-case hex"
                ? `v2=${signature.slice(3).toUpperCase()}`
                : forged.kind === "v1 scheme"
                  ? signature.replace("v2=", "v1=")
                  : signature.slice(0, 3 + forged.cut);
          }
          if (forged.kind === "no nonce" || forged.kind === "other nonce" || forged.kind === "odd nonce") {
            headers = await signMirrorRequest(secret, body);
            if (forged.kind === "no nonce") delete headers[NONCE_HEADER];
            else
              headers[NONCE_HEADER] =
                forged.kind === "odd nonce" ? forged.nonce : crypto.randomUUID().replace(/-/g, "");
          }
          if (forged.kind === "other body signed") headers = await signMirrorRequest(secret, mirrorBody());
          if (forged.kind === "odd timestamp") {
            headers = await signMirrorRequest(secret, body);
            headers[TIMESTAMP_HEADER] = forged.timestamp;
          }
          const ex = await check(property, MIRROR_PATH, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body,
          });
          expect(ex.status, `${forged.kind}: ${ex.text}`).toBe(401);
        }),
        fuzzParameters(settings, 80),
      );
      // Control: the same request signed correctly is mirrored, so the refusals above are real.
      const body = mirrorBody();
      const ok = await check(property, MIRROR_PATH, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(await signMirrorRequest(bridge.secrets.mirrorSecret, body)),
        },
        body,
      });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.delta.mirrorAcked).toBe(1);
    });

    it("correctly signed hostile bodies: 4xx, or per-event results where only valid events are acked", async () => {
      const property = "mirror signed hostile body";
      const document = { events: [validCloudEvent(), validCloudEvent()] };
      const bodies = fc.oneof(
        fc
          .record({ path: fc.constantFrom(...valuePaths(document)), value: hostileValue }, { requiredKeys: ["path"] })
          .map(
            ({ path, value }) =>
              () =>
                serialiseHostile({ events: [validCloudEvent(), validCloudEvent()] }, path, value),
          ),
        fc.nat().map((cut) => () => {
          const text = mirrorBody();
          return text.slice(0, cut % text.length);
        }),
        fc.constantFrom(
          () => deeplyNested(DEEP_NESTING, "object"),
          () => `{"events":${deeplyNested(DEEP_NESTING, "array")}}`,
          () => `{"events":[${Array.from({ length: 101 }, () => JSON.stringify(validCloudEvent())).join(",")}]}`,
          () => '{"events":[]}',
          () => "1e400",
        ),
      );
      await fc.assert(
        fc.asyncProperty(bodies, async (makeBody) => {
          const body = makeBody();
          const ex = await check(property, MIRROR_PATH, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(await signMirrorRequest(bridge.secrets.mirrorSecret, body)),
            },
            body,
          });
          if (ex.status === 200) {
            const { results } = JSON.parse(ex.text) as {
              results: { status: string; topic?: string; error?: { code: string; message: string } }[];
            };
            const acked = results.filter((r) => r.status === "acked" && r.topic !== undefined).length;
            expect(ex.delta.mirrorAcked, ex.text).toBe(acked);
            for (const failed of results.filter((r) => r.status === "failed")) {
              expect(failed.error?.code, ex.text).toMatch(/^[a-z_]+$/);
              expect(failed.error?.message, ex.text).not.toBe("");
            }
          }
        }),
        fuzzParameters(settings, 100),
      );
    });
  });

  it("mirror: a replayed request is refused with 409 and writes nothing", async () => {
    const property = "mirror replay";
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), async (events) => {
        const body = JSON.stringify({ events: Array.from({ length: events }, validCloudEvent) });
        const headers = {
          "content-type": "application/json",
          ...(await signMirrorRequest(bridge.secrets.mirrorSecret, body)),
        };
        const first = await check(property, MIRROR_PATH, { method: "POST", headers, body });
        expect(first.status, first.text).toBe(200);
        const replay = await check(property, MIRROR_PATH, { method: "POST", headers, body });
        expect(replay.status, replay.text).toBe(409);
      }),
      fuzzParameters(settings, 10),
    );
  });

  it("chunked floods of up to 300 MB on every area: refused on the stream within a second, nothing written", async () => {
    const property = "chunked flood";
    const flood = fc.record({
      target: fc.constantFrom(
        { path: MIRROR_PATH, prefix: '{"events":[' },
        { path: "/kafka/produce", prefix: `[{"topic":"${TOPIC}","value":"` },
        { path: "/kafka/fetch", prefix: '{"topicPartitionOffsets":[' },
        { path: "/kafka/consume/fuzz-readers-a/flood", prefix: '{"topics":["' },
        { path: "/kafka/commit/fuzz-readers-a/flood", prefix: "[" },
        { path: "/redis", prefix: '["set","fuzz:flood","' },
        { path: "/redis/pipeline", prefix: '[["set","fuzz:flood","' },
      ),
      credentials: fc.constantFrom("none", "wrong", "right"),
      megabytes: fc.integer({ min: 2, max: 300 }),
    });
    await fc.assert(
      fc.asyncProperty(flood, async ({ target, credentials, megabytes: size }) => {
        const headers: Record<string, string> = {};
        const area = target.path.split("/")[1];
        if (credentials !== "none") {
          if (area === "kafka")
            headers.authorization = credentials === "right" ? basic : `Basic ${btoa("fuzz-user:wrong")}`;
          else if (area === "redis")
            headers.authorization = credentials === "right" ? bearerToken : "Bearer wrong-token";
          // The mirror: well-formed, current headers; only the body could show the signature is forged.
          else
            Object.assign(
              headers,
              await signMirrorRequest(credentials === "right" ? "forged-secret-000001" : "x".repeat(16), "x"),
            );
        }
        const before = await bridge.state();
        const answer = await chunkedFlood(`${bridge.url}${target.path}`, {
          headers,
          prefix: target.prefix,
          totalBytes: size * 1_000_000,
          deadlineMs: 5_000,
        });
        const after = await bridge.state();
        const what = `${credentials} ${target.path} ${size} MB → ${answer.status ?? answer.failure} after ${answer.ms} ms: ${answer.text.slice(0, 200)}`;
        tally.record(property, answer.status ?? "none");
        expect([401, 413, 429], what).toContain(answer.status);
        expect(bridgeRejectionProblem(target.path, answer.status as number, answer.text), what).toBeUndefined();
        expect(answer.ms, what).toBeLessThan(1_000);
        expect(after.kafkaProduced - before.kafkaProduced, what).toBe(0);
        expect(after.mirrorAcked - before.mirrorAcked, what).toBe(0);
        expect(after.redisKeys - before.redisKeys, what).toBe(0);
      }),
      fuzzParameters(settings, 14),
    );
  });

  it("scoped Kafka REST logins never reach past their topics and groups", async () => {
    const property = "kafka credential scope";
    type Login = keyof typeof SCOPED;
    const operations = [
      "produce",
      "produce path",
      "produce get",
      "fetch",
      "offsets",
      "consume",
      "commit",
      "committed",
      "delete",
    ] as const;
    type Operation = (typeof operations)[number];
    const groups = ["fuzz-readers-a", "edgebus-mirror", "fuzz-reader", "fuzz-readersx"];
    const glob = (pattern: string, name: string) =>
      pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
    /** What the login may do, from its configuration (the model the bridge must follow). */
    const allowed = (login: Login, operation: Operation, topic: string, group: string): boolean => {
      const scope = SCOPED[login];
      const may = (patterns: readonly string[], name: string) => patterns.some((p) => glob(p, name));
      if (operation.startsWith("produce")) return may(scope.produce, topic);
      if (operation === "fetch" || operation === "offsets") return may(scope.fetch, topic);
      if (operation === "delete") return may(scope.groups, group);
      return may(scope.groups, group) && may(scope.fetch, topic);
    };
    const request = (operation: Operation, topic: string, group: string): [string, ExchangeInit] => {
      const json = (path: string, body: unknown): [string, ExchangeInit] => [
        path,
        { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } },
      ];
      switch (operation) {
        case "produce":
          return json("/kafka/produce", { topic, value: "scoped" });
        case "produce path":
          return json(`/kafka/produce/${topic}`, { value: "scoped" });
        case "produce get":
          return [`/kafka/produce/${topic}/scoped`, { method: "GET", headers: {} }];
        case "fetch":
          return json("/kafka/fetch", { topic, partition: 0, offset: 0, timeout: 100 });
        case "offsets":
          return json("/kafka/offsets/latest", [{ topic, partition: 0 }]);
        case "consume":
          return json(`/kafka/consume/${group}/scoped`, { topic, timeout: 100 });
        case "commit":
          return json(`/kafka/commit/${group}/scoped`, [{ topic, partition: 0, offset: 0 }]);
        case "committed":
          return json(`/kafka/committed/${group}/scoped`, [{ topic, partition: 0 }]);
        case "delete":
          return [`/kafka/delete-consumer/${group}/scoped`, { method: "POST", headers: {} }];
      }
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Login>("producer", "reader"),
        fc.constantFrom(...operations),
        fc.constantFrom(TOPIC, OTHER_TOPIC, "gov.auth.citizen"),
        fc.constantFrom(...groups),
        async (login, operation, topic, group) => {
          const [path, init] = request(operation, topic, group);
          const { username, password } = SCOPED[login];
          init.headers = { ...init.headers, authorization: `Basic ${btoa(`${username}:${password}`)}` };
          const ex = await check(property, path, init);
          const what = `${login} ${operation} ${topic} ${group} → ${ex.status} ${ex.text.slice(0, 200)}`;
          if (allowed(login, operation, topic, group)) {
            expect(ex.status, what).not.toBe(403);
          } else {
            expect(ex.status, what).toBe(403);
            expect(JSON.parse(ex.text), what).toMatchObject({ code: "forbidden", status: 403 });
          }
        },
      ),
      fuzzParameters(settings, 120),
    );
    // Instances the reader created in its own groups go away with it.
    for (const group of groups) {
      await httpExchange(`${bridge.url}/kafka/delete-consumer/${group}/scoped`, {
        method: "POST",
        headers: { authorization: basic },
      });
    }
  });

  it("unknown routes and methods in every area, and 100 KB headers, answer 4xx with a code and a reason", async () => {
    const property = "routes and headers";
    const paths = fc.oneof(
      fc
        .tuple(
          fc.constantFrom("", "/kafka", "/redis", "/v1", "/v1/mirror", "/healthz", "/admin"),
          fc.array(fc.constantFrom("x", "..", "%2e%2e", "%00", "__proto__", "topics", "pipeline", "a".repeat(3000)), {
            maxLength: 3,
          }),
        )
        .map(([area, parts]) => `${area}/${parts.join("/")}`),
      fc.webPath().map((path) => (path.startsWith("/") ? path : `/${path}`)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
        paths,
        fc.constantFrom("none", "right", "big header"),
        async (method, path, credentials) => {
          const headers: Record<string, string> = {};
          if (credentials !== "none") {
            headers.authorization = path.startsWith("/kafka") ? basic : bearerToken;
          }
          if (credentials === "big header") headers["x-padding"] = oversizeHeaderValue(110);
          await check(property, path, { method, headers });
        },
      ),
      fuzzParameters(settings, 120),
    );
  });

  it("keeps serving and logged no internal error", async () => {
    expect(bridge.alive()).toBe(true);
    const health = await fetch(`${bridge.url}/healthz`);
    expect(health.status, await health.text()).toBe(200);
    const ex = await exchange("/kafka/produce", {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json" },
      body: JSON.stringify(produceMessage()),
    });
    expect(ex.status, ex.text).toBe(200);
    expect(ex.delta.kafkaProduced).toBe(1);
    expect(bridge.output()).not.toMatch(/internal error|Unhandled|uncaught/i);
  });
});

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
