/**
 * A consumer instance keeps returning records while producers keep writing, and returns all of
 * them once they stop. Regression: the instance read its stream with read() and transient
 * 'readable' listeners, and the stream's fetch loop stopped for good when a fetch ended while no
 * listener was attached — under steady production every consume after the first few answered
 * `[]`, and what was produced later was never delivered.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "kafka-rest consumer under steady production");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const auth = { authorization: `Basic ${btoa("steady:pass")}`, "content-type": "application/json" };

describe.runIf(available)("a consumer instance under steady production", () => {
  let stack: KafkaStack;
  let server: ReturnType<typeof serve>;
  let base: string;

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `steady-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: true, partitionsFor: () => 3, defaultPartitions: 3, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 5 },
    );
    const root = new Hono().route(
      "/kafka",
      createKafkaRestApp({ ...stack, credentials: { username: "steady", password: "pass" } }),
    );
    server = serve({ fetch: root.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kafka`;
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("returns what is produced meanwhile, call after call, with commits in between", async () => {
    const topic = `steady-${run}`;
    await fetch(`${base}/produce`, { method: "POST", headers: auth, body: JSON.stringify({ topic, value: "first" }) });
    let producing = true;
    let produced = 1;
    const producer = async (id: number) => {
      for (let batch = 0; producing; batch++) {
        const values = Array.from({ length: 5 }, (_, i) => ({ topic, value: `v-${id}-${batch}-${i}` }));
        const res = await fetch(`${base}/produce`, { method: "POST", headers: auth, body: JSON.stringify(values) });
        if (res.ok) produced += values.length;
      }
    };
    const producers = [producer(1), producer(2)];
    const headers = { ...auth, "kafka-auto-offset-reset": "earliest", "kafka-enable-auto-commit": "false" };
    const seen = new Set<string>();
    let emptyInARow = 0;
    let longestEmptyRun = 0;
    const consume = async () => {
      const res = await fetch(`${base}/consume/steady-${run}/i`, {
        method: "POST",
        headers,
        body: JSON.stringify({ topic, timeout: 1000 }),
      });
      const records = (await res.json()) as { partition: number; offset: number; value: string }[];
      emptyInARow = records.length === 0 ? emptyInARow + 1 : 0;
      // The first calls may be empty while the group forms.
      if (seen.size > 0) longestEmptyRun = Math.max(longestEmptyRun, emptyInARow);
      const next = new Map<number, number>();
      for (const record of records) {
        seen.add(record.value);
        next.set(record.partition, Math.max(next.get(record.partition) ?? 0, record.offset + 1));
      }
      if (next.size > 0) {
        const commit = await fetch(`${base}/commit/steady-${run}/i`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify([...next].map(([partition, offset]) => ({ topic, partition, offset }))),
        });
        expect(commit.status).toBe(200);
      }
    };
    for (let call = 0; call < 30; call++) await consume();
    producing = false;
    await Promise.all(producers);
    // Producers wrote the whole time: a consumer that stalled would have long runs of [].
    expect(longestEmptyRun).toBeLessThanOrEqual(1);
    for (let call = 0; call < 30 && seen.size < produced; call++) await consume();
    expect(seen.size).toBe(produced);
  }, 60_000);
});
