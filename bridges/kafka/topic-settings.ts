/**
 * The catalogues' Kafka topic settings (partitions, replication factor, `retention.ms`,
 * `compression.type`) against what a cluster has.
 *
 * - `createOptions`: what a new topic is created with; the replication factor is capped at the
 *   broker count when the bridge allows it (a development cluster of one broker), and the cap is
 *   reported so the caller logs it.
 * - `inspectTopics` + `driftOf`: how existing topics differ (too few partitions, fewer replicas,
 *   another retention or compression). Drift is reported, never corrected behind anyone's back:
 * - `planTopics` / `applyTopicPlan` (`npm run bridge -- topics apply [--dry-run]`) change topics
 *   explicitly: create missing ones, add partitions, set the two configs. Fewer partitions or
 *   another replication factor cannot be applied this way and are listed as such.
 */
import { type Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from "@platformatic/kafka";
import type { TopicDefinition } from "#shared/catalogue/types.ts";
import { kafkaUnavailable } from "./kafka-errors.ts";

export type TopicSettings = Omit<TopicDefinition, "name">;

/** The topic-level configs a catalogue sets, as Kafka names them. */
export const CONFIG_NAMES = ["retention.ms", "compression.type"] as const;
type ConfigName = (typeof CONFIG_NAMES)[number];

export interface ObservedTopic {
  readonly partitions: number;
  /** Fewest replicas of any partition. */
  readonly replication: number;
  readonly configs: Readonly<Partial<Record<ConfigName, string>>>;
}

export interface SettingDrift {
  readonly topic: string;
  readonly setting: "partitions" | "replication" | ConfigName;
  readonly want: string;
  readonly have: string;
}

export interface ReplicationChoice {
  readonly replicas: number;
  /** Set when the catalogue asked for more replicas than there are brokers and the cap applied. */
  readonly cappedFrom?: number;
}

/** Replicas to create (or expect) for `settings`: theirs, capped at `brokers` when `cap`; else `fallback`. */
export function replicationFor(
  settings: TopicSettings | undefined,
  brokers: number,
  cap: boolean,
  fallback: number,
): ReplicationChoice {
  const wanted = settings?.replicationFactor;
  if (wanted === undefined) return { replicas: fallback };
  if (cap && brokers > 0 && wanted > brokers) return { replicas: brokers, cappedFrom: wanted };
  return { replicas: wanted };
}

export function configsOf(settings: TopicSettings | undefined): { name: ConfigName; value: string }[] {
  const configs: { name: ConfigName; value: string }[] = [];
  if (settings?.retentionMs !== undefined) configs.push({ name: "retention.ms", value: String(settings.retentionMs) });
  if (settings?.compressionType !== undefined)
    configs.push({ name: "compression.type", value: settings.compressionType });
  return configs;
}

/** Brokers in the cluster's metadata. */
export async function brokerCount(admin: Admin): Promise<number> {
  try {
    return (await admin.metadata({ topics: [], forceUpdate: true })).brokers.size;
  } catch (error) {
    throw kafkaUnavailable("reading cluster metadata failed", error);
  }
}

/** Partitions, replication and the catalogue's configs of each of `topics` that exists. */
export async function inspectTopics(admin: Admin, topics: readonly string[]): Promise<Map<string, ObservedTopic>> {
  try {
    const names = new Set(await admin.listTopics({ includeInternals: false }));
    const present = topics.filter((topic) => names.has(topic));
    const observed = new Map<string, ObservedTopic>();
    if (present.length === 0) return observed;
    const metadata = await admin.metadata({ topics: present, forceUpdate: true });
    const described = await admin.describeConfigs({
      resources: present.map((topic) => ({
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: topic,
        configurationKeys: [...CONFIG_NAMES],
      })),
    });
    for (const topic of present) {
      const found = metadata.topics.get(topic);
      if (!found) continue;
      const configs: Partial<Record<ConfigName, string>> = {};
      for (const entry of described.find((d) => d.resourceName === topic)?.configs ?? []) {
        if ((CONFIG_NAMES as readonly string[]).includes(entry.name) && entry.value !== null) {
          configs[entry.name as ConfigName] = entry.value;
        }
      }
      const replication = Math.min(...found.partitions.map((p) => p.replicas.length));
      observed.set(topic, { partitions: found.partitionsCount, replication, configs });
    }
    return observed;
  } catch (error) {
    throw kafkaUnavailable("reading topic settings failed", error);
  }
}

/** How `observed` falls short of or differs from `settings` (replication compared after the cap). */
export function driftOf(
  topic: string,
  settings: TopicSettings,
  observed: ObservedTopic,
  replication: ReplicationChoice | undefined,
): SettingDrift[] {
  const drift: SettingDrift[] = [];
  if (observed.partitions < settings.partitions) {
    drift.push({ topic, setting: "partitions", want: String(settings.partitions), have: String(observed.partitions) });
  }
  if (
    replication !== undefined &&
    settings.replicationFactor !== undefined &&
    observed.replication < replication.replicas
  ) {
    drift.push({
      topic,
      setting: "replication",
      want: String(replication.replicas),
      have: String(observed.replication),
    });
  }
  for (const { name, value } of configsOf(settings)) {
    const have = observed.configs[name];
    if (have !== value) drift.push({ topic, setting: name, want: value, have: have ?? "(unknown)" });
  }
  return drift;
}

export function describeDrift(drift: SettingDrift): string {
  return `${drift.topic}: ${drift.setting} is ${drift.have}, the catalogue says ${drift.want}`;
}

export type TopicPlanStep =
  | {
      readonly kind: "create";
      readonly topic: string;
      readonly settings: TopicSettings;
      readonly replication: ReplicationChoice;
    }
  | { readonly kind: "add-partitions"; readonly topic: string; readonly from: number; readonly to: number }
  | {
      readonly kind: "set-configs";
      readonly topic: string;
      readonly configs: { name: ConfigName; value: string; was: string }[];
    }
  | { readonly kind: "cannot"; readonly topic: string; readonly reason: string }
  | { readonly kind: "in-sync"; readonly topic: string };

export interface PlanOptions {
  readonly capReplication: boolean;
  /** Replicas for a topic whose settings name none (the bridge's `kafka.topics.replicationFactor`). */
  readonly defaultReplication: number;
}

/** What `applyTopicPlan` would do to bring `wanted` topics to their settings. */
export async function planTopics(
  admin: Admin,
  wanted: ReadonlyMap<string, TopicSettings>,
  options: PlanOptions,
): Promise<TopicPlanStep[]> {
  const brokers = await brokerCount(admin);
  const observed = await inspectTopics(admin, [...wanted.keys()]);
  const steps: TopicPlanStep[] = [];
  for (const [topic, settings] of wanted) {
    const replication = replicationFor(settings, brokers, options.capReplication, options.defaultReplication);
    const have = observed.get(topic);
    if (have === undefined) {
      steps.push({ kind: "create", topic, settings, replication });
      continue;
    }
    const drift = driftOf(topic, settings, have, replication);
    let changed = false;
    const partitions = drift.find((d) => d.setting === "partitions");
    if (partitions) {
      steps.push({ kind: "add-partitions", topic, from: have.partitions, to: settings.partitions });
      changed = true;
    }
    const configs = drift
      .filter((d) => d.setting === "retention.ms" || d.setting === "compression.type")
      .map((d) => ({ name: d.setting as ConfigName, value: d.want, was: d.have }));
    if (configs.length > 0) {
      steps.push({ kind: "set-configs", topic, configs });
      changed = true;
    }
    const replicas = drift.find((d) => d.setting === "replication");
    if (replicas) {
      steps.push({
        kind: "cannot",
        topic,
        reason: `replication is ${replicas.have}, the catalogue says ${replicas.want}: reassign its partitions (kafka-reassign-partitions)`,
      });
      changed = true;
    }
    if (!changed) steps.push({ kind: "in-sync", topic });
  }
  return steps;
}

export function describeStep(step: TopicPlanStep): string {
  switch (step.kind) {
    case "create": {
      const capped =
        step.replication.cappedFrom === undefined
          ? ""
          : ` (capped from ${step.replication.cappedFrom}: the cluster has ${step.replication.replicas} broker(s))`;
      const configs = configsOf(step.settings).map((c) => `${c.name}=${c.value}`);
      return `create ${step.topic}: ${step.settings.partitions} partitions, replication ${step.replication.replicas === -1 ? "(broker default)" : step.replication.replicas}${capped}${configs.length > 0 ? `, ${configs.join(", ")}` : ""}`;
    }
    case "add-partitions":
      return `add partitions to ${step.topic}: ${step.from} → ${step.to}`;
    case "set-configs":
      return `set ${step.topic}: ${step.configs.map((c) => `${c.name} ${c.was} → ${c.value}`).join(", ")}`;
    case "cannot":
      return `cannot apply to ${step.topic}: ${step.reason}`;
    case "in-sync":
      return `in sync: ${step.topic}`;
  }
}

/** Carries out the plan's changes in order; `cannot` and `in-sync` steps change nothing. */
export async function applyTopicPlan(admin: Admin, steps: readonly TopicPlanStep[]): Promise<void> {
  for (const step of steps) {
    try {
      if (step.kind === "create") {
        await admin.createTopics({
          topics: [step.topic],
          partitions: step.settings.partitions,
          replicas: step.replication.replicas,
          configs: configsOf(step.settings),
        });
      } else if (step.kind === "add-partitions") {
        await admin.createPartitions({ topics: [{ name: step.topic, count: step.to }] });
      } else if (step.kind === "set-configs") {
        await admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: step.topic,
              configs: step.configs.map((c) => ({
                name: c.name,
                configOperation: IncrementalAlterConfigOperationTypes.SET,
                value: c.value,
              })),
            },
          ],
        });
      }
    } catch (error) {
      throw kafkaUnavailable(`${describeStep(step)} failed`, error);
    }
  }
}
