/**
 * 200 idle streams (100 SSE, 100 WebSocket) on a real bridge process (bridges/main.ts) cost
 * bounded memory: the bridge's RSS, read from /proc, grows by less than STREAMS_RSS_BOUND_MB while
 * they are open and heartbeating, and one produced event still reaches all 200 within 2 s (one
 * shared read loop feeds them; the Kafka cost does not grow with the streams).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { scrubbedEnv } from "../../test/support/child-env.ts";
import { openEventStream, type SseConnection } from "../../test/support/event-stream-client.ts";
import { requireService } from "../../test/support/services.ts";
import { bridgeProcessArgs } from "../v8-tuning.ts";

/**
 * Measured +11.4 to +11.5 MB for 200 streams (≈58 kB a stream: socket, HTTP or WebSocket state,
 * heartbeat timer, cursors) on the shared 2-core machine; the bound leaves room for GC timing.
 */
const STREAMS_RSS_BOUND_MB = 30;
const STREAMS = 200;

const available = await requireService("kafka", "200 idle streams");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const topic = `sm-${run}.gov.events`;
const password = "stream-memory-password-01";
const auth = `Basic ${Buffer.from(`edgebus:${password}`).toString("base64")}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The process's resident set size in MB (Linux). */
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

describe.runIf(available && process.platform === "linux")("200 idle topic streams", () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`cost less than ${STREAMS_RSS_BOUND_MB} MB of bridge RSS and all get a new event within 2 s`, async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebus-streams-"));
    const configPath = join(dir, "bridge.yaml");
    await writeFile(
      configPath,
      [
        "port: 0",
        "kafka:",
        `  brokers: [${serviceUrls.kafkaBrokers.map((b) => `"${b}"`).join(", ")}]`,
        `  clientId: sm-${run}`,
        `  topics: { createPatterns: ["sm-${run}.*"], defaultPartitions: 3 }`,
        "kafkaRest: { username: edgebus }",
        "redisRest: { enabled: false }",
        "metrics: { kafka: { enabled: false } }",
        "topicEvents: { maxStreams: 250, heartbeatSeconds: 1 }",
      ].join("\n"),
    );
    child = spawn(process.execPath, bridgeProcessArgs(configPath), {
      cwd: join(import.meta.dirname, "../.."),
      env: scrubbedEnv({ BRIDGE_KAFKA_REST_PASSWORD: password }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      url = /"msg":"edgebus bridge listening"[^\n]*"url":"([^"]+)"/.exec(output)?.[1];
      if (!url) await sleep(100);
    }
    expect(url, output).toBeDefined();
    const base = url as string;
    const pid = child.pid as number;
    const produce = async (id: string) => {
      const answer = await fetch(`${base}/kafka/produce`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({
          topic,
          value: "{}",
          headers: [
            { key: "ce_specversion", value: "1.0" },
            { key: "ce_id", value: id },
            { key: "ce_source", value: "/memory" },
            { key: "ce_type", value: "gov.memory.tested" },
          ],
        }),
      });
      expect(answer.status, await answer.clone().text()).toBe(200);
    };
    const openWs = (received: string[]) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}/v1/topics/${topic}/stream`, {
          headers: { authorization: auth },
        });
        ws.on("message", (data) => received.push((JSON.parse(String(data)) as { event: { id: string } }).event.id));
        ws.once("open", () => resolve(ws));
        ws.once("error", reject);
      });

    // Warm up every code path (first stream of each kind, first event) before the baseline.
    await produce(`${run}-warmup`);
    const warmSse = await openEventStream(`${base}/v1/topics/${topic}/stream`, { authorization: auth });
    const warmWs = await openWs([]);
    await sleep(500);
    await produce(`${run}-warm`);
    await warmSse.until((c) => c.messages.length > 0, 5000, "the warm-up event");
    warmSse.close();
    warmWs.close();
    await sleep(1500);
    const before = rssMb(pid);

    const sse: SseConnection[] = [];
    const ws: WebSocket[] = [];
    const wsReceived: string[][] = [];
    try {
      for (let i = 0; i < STREAMS / 2; i++) {
        sse.push(await openEventStream(`${base}/v1/topics/${topic}/stream`, { authorization: auth }));
        const received: string[] = [];
        wsReceived.push(received);
        ws.push(await openWs(received));
      }
      expect(sse.every((s) => s.status === 200)).toBe(true);
      // Idle: three heartbeats go by.
      await sleep(3500);
      const open = rssMb(pid);
      const grown = open - before;
      console.log(
        `${STREAMS} idle streams: bridge RSS ${before.toFixed(1)} MB → ${open.toFixed(1)} MB (+${grown.toFixed(1)} MB, ${((grown * 1024) / STREAMS).toFixed(0)} kB a stream)`,
      );
      expect(grown).toBeLessThan(STREAMS_RSS_BOUND_MB);
      expect(sse.every((s) => s.comments.includes("heartbeat"))).toBe(true);

      const sentAt = Date.now();
      await produce(`${run}-fanout`);
      const everyone = () =>
        sse.every((s) => s.messages.some((m) => m.data.includes(`${run}-fanout`))) &&
        wsReceived.every((r) => r.includes(`${run}-fanout`));
      while (!everyone() && Date.now() - sentAt < 5000) await sleep(20);
      expect(everyone()).toBe(true);
      expect(Date.now() - sentAt).toBeLessThan(2000);
    } finally {
      for (const s of sse) s.close();
      for (const w of ws) w.close();
    }
  }, 90_000);
});
