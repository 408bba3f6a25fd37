/**
 * What the batch-produce benchmarks (bridge-produce, mirror-targets) share: the ~600-byte citizen
 * event they send, timing batches sent with a fixed number in flight, interleaved best-of runs, a
 * signed `POST /v1/mirror` that fails unless every event is acked, and a Hono app served on an
 * ephemeral local port.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { MIRROR_PATH, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { type LeanRoute, leanRoutesServer } from "../../bridges/http/lean-routes.ts";
import { percentile, round } from "./stats.ts";

/** A realistic event: a citizen record of about 600 bytes of JSON; its edge topic is gov.bench.citizen. */
export function citizenEvent(i: number, id: string): CloudEventRecord {
  return {
    specversion: "1.0",
    id,
    source: "/gov/auth",
    type: "gov.bench.citizen.updated",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    partitionkey: `citizen-${i % 5000}`,
    eventversion: 1 + Math.floor(i / 5000),
    correlationid: `corr-${i}`,
    data: {
      citizenId: `citizen-${i % 5000}`,
      givenName: "Ana Maria",
      familyName: "Popescu-Ionescu",
      birthDate: "1980-05-17",
      address: { street: "Strada Lunga 12", city: "Cluj-Napoca", postalCode: "400000", country: "RO" },
      email: "ana.popescu@example.gov",
      phone: "+40712345678",
      verifications: [{ kind: "identity-document", at: "2026-01-01T10:00:00Z", level: "substantial" }],
      notes: "x".repeat(200),
    },
  };
}

export interface BatchFigures {
  messages: number;
  seconds: number;
  messages_per_second: number;
  batch_latency_ms: { p50: number; p99: number };
}

/** Splits `items` into batches of `batch` (the last may be shorter). */
export function inBatches<T>(items: readonly T[], batch: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += batch) batches.push(items.slice(start, start + batch));
  return batches;
}

/** Runs `send` over every batch with `concurrency` in flight; returns throughput and batch latencies. */
export async function measureBatches<T>(
  batches: readonly T[][],
  concurrency: number,
  send: (batch: T[]) => Promise<void>,
): Promise<BatchFigures> {
  const messages = batches.reduce((sum, batch) => sum + batch.length, 0);
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as T[];
        const t0 = performance.now();
        await send(batch);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    messages,
    seconds: round(seconds, 3),
    messages_per_second: Math.round(messages / seconds),
    batch_latency_ms: { p50: round(percentile(latencies, 50), 1), p99: round(percentile(latencies, 99), 1) },
  };
}

export type BestRun = BatchFigures & { runs: number[] };

/**
 * Runs every way `runs` times, interleaved (each way once, then again) so a burst of load from
 * other processes hits every way alike; keeps each way's best run, since the first also pays for
 * warm-up, with every run's rate beside it.
 */
export async function bestOfInterleaved(
  ways: Record<string, () => Promise<BatchFigures>>,
  options: { runs: number; messages: number; unit: string; pad: number; log: (line: string) => void },
): Promise<Record<string, BestRun>> {
  const { runs, messages, unit, pad, log } = options;
  const runsOf: Record<string, BatchFigures[]> = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, way] of Object.entries(ways)) {
      log(`${name}: run ${i + 1} of ${runs}, ${messages} ${unit}`);
      runsOf[name]?.push(await way());
    }
  }
  const results: Record<string, BestRun> = {};
  for (const [name, all] of Object.entries(runsOf)) {
    const top = all.reduce((a, b) => (b.messages_per_second > a.messages_per_second ? b : a));
    results[name] = { ...top, runs: all.map((r) => r.messages_per_second) };
    log(`${name.padEnd(pad)} ${top.messages_per_second} msg/s (runs: ${results[name].runs.join(", ")})`);
  }
  return results;
}

/**
 * Posts `events` as one signed mirror batch to `${baseUrl}/v1/mirror`; throws unless every event is
 * acked (`label` starts the error message when given).
 */
export async function postMirrorBatch(
  baseUrl: string,
  secret: string,
  events: readonly CloudEventRecord[],
  label?: string,
): Promise<void> {
  const body = JSON.stringify({ events });
  const response = await fetch(`${baseUrl}${MIRROR_PATH}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...(await signMirrorRequest(secret, body)) },
  });
  const { results } = mirrorResponseSchema.parse(await response.json());
  const failed = results.filter((r) => r.status !== "acked");
  if (failed.length > 0) {
    const refused = `mirror refused ${failed.length} events: ${JSON.stringify(failed[0])}`;
    throw new Error(label ? `${label}: ${refused}` : refused);
  }
}

/**
 * Serves `app` on 127.0.0.1 at a free port, with the bridge's lean routes in front of it as the
 * bridge serves them (bridges/http/lean-routes.ts); `close` stops it, dropping idle keep-alive
 * connections.
 */
export async function serveLocally(
  app: Hono,
  leanRoutes: readonly LeanRoute[] = [],
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = serve({
    fetch: app.fetch,
    port: 0,
    hostname: "127.0.0.1",
    createServer: leanRoutesServer(createServer, leanRoutes),
  });
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      }),
  };
}
