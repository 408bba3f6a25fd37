/**
 * The console's Overview: one JSON snapshot of the bus, read on every refresh. Totals, not rates:
 * the page turns two snapshots into events per second (a rate needs two readings, and the
 * Worker keeps none between requests).
 *
 * - queues: each queue's backlog and oldest message age (`Queue.metrics()`, `queue-backlog.ts`),
 *   and what its consumers took off it (applied + duplicate + dead-lettered, from
 *   `edgebus.consumer_metrics`): "out"; "in" is out + backlog.
 * - topics: the bridge's Kafka metrics (`GET <bridge>/metrics`, kafka_exporter names): each
 *   topic's log end offsets summed over partitions ("in"), and per consumer group the committed
 *   offsets ("out") and lag.
 * - dead letters pending per queue (`edgebus.dead_letters`).
 * - health of each dependency: Redis and Kafka REST (the `/readyz` probes), Postgres, the bridge.
 */

import { MESSAGE_OUTCOMES } from "#shared/consumers/consumer-metrics.ts";
import { openDatabase } from "#shared/db/client.ts";
import type { Capabilities } from "../capabilities.ts";
import { readConsumerSeries, readDeadLetterSeries } from "../db/consumer-metrics-reader.ts";
import { readQueueBacklogs } from "../queue-backlog.ts";
import { type ProbeResult, readiness } from "../readiness-probes.ts";

const BRIDGE_TIMEOUT_MS = 2000;

type Health = ProbeResult;

interface PromSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Samples of Prometheus text format (comments skipped); enough for kafka_exporter-style series. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch));
    }
    const value = Number(match[3]);
    if (Number.isFinite(value)) samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

export interface TopicSnapshot {
  topic: string;
  end_offset: number;
  groups: { group: string; committed: number; lag: number }[];
}

/** Topics and consumer groups from the bridge's metrics text. */
export function topicsFromMetrics(samples: readonly PromSample[]): TopicSnapshot[] {
  const topics = new Map<string, TopicSnapshot>();
  const topic = (name: string) => {
    let entry = topics.get(name);
    if (entry === undefined) {
      entry = { topic: name, end_offset: 0, groups: [] };
      topics.set(name, entry);
    }
    return entry;
  };
  const group = (entry: TopicSnapshot, name: string) => {
    let found = entry.groups.find((g) => g.group === name);
    if (found === undefined) {
      found = { group: name, committed: 0, lag: 0 };
      entry.groups.push(found);
    }
    return found;
  };
  for (const sample of samples) {
    const name = sample.labels.topic;
    if (name === undefined) continue;
    if (sample.name === "kafka_topic_partition_current_offset") topic(name).end_offset += sample.value;
    const groupName = sample.labels.consumergroup;
    if (groupName === undefined) continue;
    if (sample.name === "kafka_consumergroup_current_offset") group(topic(name), groupName).committed += sample.value;
    if (sample.name === "kafka_consumergroup_lag") group(topic(name), groupName).lag += sample.value;
  }
  return [...topics.values()].sort((a, b) => a.topic.localeCompare(b.topic));
}

function reasonOf(thrown: unknown): string {
  if (thrown instanceof Error && (thrown.name === "TimeoutError" || thrown.name === "AbortError")) {
    return `no answer within ${BRIDGE_TIMEOUT_MS} ms`;
  }
  return thrown instanceof Error ? thrown.message.slice(0, 200) : "unreachable";
}

async function readBridge(bridgeUrl: string | null): Promise<{ health: Health; topics: TopicSnapshot[] }> {
  if (bridgeUrl === null) return { health: { status: "not_configured" }, topics: [] };
  try {
    const [health, metrics] = await Promise.all([
      fetch(`${bridgeUrl}/healthz`, { signal: AbortSignal.timeout(BRIDGE_TIMEOUT_MS) }),
      fetch(`${bridgeUrl}/metrics`, { signal: AbortSignal.timeout(BRIDGE_TIMEOUT_MS) }),
    ]);
    await health.body?.cancel();
    const text = metrics.ok ? await metrics.text() : "";
    if (!metrics.ok) await metrics.body?.cancel();
    return {
      health: health.ok ? { status: "ok" } : { status: "unavailable", reason: `/healthz answered ${health.status}` },
      topics: topicsFromMetrics(parsePrometheusText(text)),
    };
  } catch (thrown) {
    return { health: { status: "unavailable", reason: reasonOf(thrown) }, topics: [] };
  }
}

export async function readOverview(caps: Capabilities) {
  const config = caps.config;
  const backlogsRead = readQueueBacklogs(config.queues);
  const readinessRead = readiness(config);
  const bridgeRead = readBridge(config.console.bridgeUrl);
  let postgres: Health = { status: "not_configured" };
  let consumers: Awaited<ReturnType<typeof readConsumerSeries>> = [];
  let deadLetters: Awaited<ReturnType<typeof readDeadLetterSeries>> = { pending: [], queues: [] };
  if (config.admin.databaseUrl !== null) {
    // Not ended here (see withAdminDatabase): the runtime closes the request's sockets.
    const sql = openDatabase(config.admin.databaseUrl, { max: 1 });
    try {
      consumers = await readConsumerSeries(sql);
      deadLetters = await readDeadLetterSeries(sql);
      postgres = { status: "ok" };
    } catch (thrown) {
      postgres = { status: "unavailable", reason: reasonOf(thrown) };
    }
  }
  const [backlogs, ready, bridge] = await Promise.all([backlogsRead, readinessRead, bridgeRead]);
  const queues = Object.keys(config.queues).map((queue) => {
    const backlog = backlogs.find((b) => b.queue === queue);
    const mine = consumers.filter((series) => series.queue === queue);
    const out = mine.reduce((sum, s) => sum + s.messages.applied + s.messages.duplicate + s.messages.dead_lettered, 0);
    const pending = deadLetters.pending.filter((p) => p.queue === queue).reduce((sum, p) => sum + p.count, 0);
    return {
      queue,
      backlog: backlog === undefined ? null : backlog.messages,
      oldest_age_seconds: backlog === undefined ? null : Math.round(backlog.oldestAgeSeconds),
      out_total: out,
      in_total: out + (backlog?.messages ?? 0),
      dead_letters_pending: pending,
      oldest_dead_letter_age_seconds: Math.round(
        deadLetters.queues.find((q) => q.queue === queue)?.oldestPendingAgeSeconds ?? 0,
      ),
    };
  });
  return {
    at: new Date().toISOString(),
    environment: config.environment,
    health: {
      producer: { status: "ok" } as Health,
      redis: ready.redis,
      kafka: ready.kafka,
      postgres,
      bridge: bridge.health,
    },
    queues,
    consumers: consumers.map((series) => ({
      consumer: series.consumer,
      queue: series.queue,
      ...Object.fromEntries(MESSAGE_OUTCOMES.map((outcome) => [outcome, series.messages[outcome]])),
    })),
    // The catalogue's own topics (a shared cluster also holds other deployments' and mirror copies).
    topics: bridge.topics.filter((t) => caps.catalogue.topics().some((known) => t.topic === known.name)),
    dead_letters_pending: deadLetters.pending.reduce((sum, p) => sum + p.count, 0),
  };
}
