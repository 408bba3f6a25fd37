import { Admin } from "@platformatic/kafka";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import { clientOptions, type KafkaConnection } from "./connection.ts";
import { flatten, kafkaUnavailable } from "./kafka-errors.ts";
import { brokerCount, configsOf, replicationFor, type TopicSettings } from "./topic-settings.ts";

const log = createLogger({ component: "bridge" });

export interface TopicPolicy {
  /** Create a missing topic on first use; when false an unknown topic is a 404. */
  readonly autoCreate: boolean;
  /**
   * Which missing topics may be created (with `autoCreate`); any other is a 404 naming it. The
   * bridge allows the catalogue's topics, their mirror renames and `kafka.topics.createPatterns`;
   * absent = every topic (embedding code and tests that pick their own names).
   */
  readonly mayCreate?: (topic: string) => boolean;
  /** Partitions for a new topic (the catalogue's count); `defaultPartitions` when undefined. */
  readonly partitionsFor: (topic: string) => number | undefined;
  readonly defaultPartitions: number;
  /** Replication factor for new topics; -1 = the broker's `default.replication.factor`. */
  readonly replicationFactor: number;
  /**
   * The catalogue's settings of a topic (partitions, replication, retention, compression), which
   * a new topic is created with; overrides `partitionsFor` and `replicationFactor` where set.
   */
  readonly settingsFor?: (topic: string) => TopicSettings | undefined;
  /**
   * Create with at most as many replicas as the cluster has brokers (a development cluster of
   * one), logging each cap; when false a topic asking for more fails to be created.
   */
  readonly capReplication?: boolean;
}

/** Kafka's legal topic names (`Topic.validate` in the Java client). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function assertTopicName(topic: string): void {
  if (!TOPIC_NAME.test(topic) || topic === "." || topic === "..") {
    throw new EdgebusError("bad_request", `invalid topic name "${topic}"`, { details: { topic } });
  }
}

/**
 * Topic metadata and creation for the bridge. Guarantees: `ensure()` resolves with the partition
 * count of every topic once the topic exists (creating it per the policy, tolerating a concurrent
 * creator), or rejects with `not_found` (unknown topic, auto-create off) or `upstream_unavailable`.
 * Partition counts are cached; a topic deleted behind the bridge's back is noticed by the
 * producer's metadata refresh, not here.
 */
export class TopicAdmin {
  readonly #admin: Admin;
  readonly #policy: TopicPolicy;
  readonly #known = new Map<string, number>();
  readonly #creating = new Map<string, Promise<number>>();

  constructor(connection: KafkaConnection, policy: TopicPolicy) {
    this.#admin = new Admin(clientOptions(connection, "admin"));
    this.#policy = policy;
  }

  get admin(): Admin {
    return this.#admin;
  }

  /** Partition counts of every non-internal topic. */
  async partitionCounts(): Promise<Record<string, number>> {
    try {
      const names = await this.#admin.listTopics({ includeInternals: false });
      if (names.length === 0) return {};
      const metadata = await this.#admin.metadata({ topics: names, forceUpdate: true });
      const counts: Record<string, number> = {};
      for (const name of [...names].sort()) {
        const topic = metadata.topics.get(name);
        if (topic) counts[name] = topic.partitionsCount;
      }
      return counts;
    } catch (error) {
      throw kafkaUnavailable("listing topics failed", error);
    }
  }

  /** Partition count per topic, creating missing topics when the policy allows. */
  async ensure(topics: Iterable<string>): Promise<Map<string, number>> {
    const wanted = [...new Set(topics)];
    for (const topic of wanted) assertTopicName(topic);
    const missing = wanted.filter((t) => !this.#known.has(t));
    if (missing.length > 0) {
      const existing = await this.#existing(missing);
      for (const [topic, partitions] of existing) this.#known.set(topic, partitions);
      const absent = missing.filter((t) => !existing.has(t));
      if (absent.length > 0 && !this.#policy.autoCreate) {
        throw new EdgebusError("not_found", `unknown topic: ${absent.join(", ")}`, { details: { topics: absent } });
      }
      const refused = absent.filter((t) => !(this.#policy.mayCreate?.(t) ?? true));
      if (refused.length > 0) {
        throw new EdgebusError(
          "not_found",
          `unknown topic: ${refused.join(", ")} (the bridge creates only the event catalogue's topics and kafka.topics.createPatterns)`,
          { details: { topics: refused } },
        );
      }
      await Promise.all(absent.map((topic) => this.#create(topic)));
    }
    return new Map(wanted.map((t) => [t, this.#known.get(t) as number]));
  }

  /** Partition count per topic; never creates, unknown topics are `not_found`. */
  async require(topics: Iterable<string>): Promise<Map<string, number>> {
    const wanted = [...new Set(topics)];
    for (const topic of wanted) assertTopicName(topic);
    const existing = await this.#existing(wanted);
    const absent = wanted.filter((t) => !existing.has(t));
    if (absent.length > 0) {
      throw new EdgebusError("not_found", `unknown topic: ${absent.join(", ")}`, { details: { topics: absent } });
    }
    for (const [topic, partitions] of existing) this.#known.set(topic, partitions);
    return existing;
  }

  async #existing(topics: string[]): Promise<Map<string, number>> {
    try {
      const names = new Set(await this.#admin.listTopics({ includeInternals: false }));
      const present = topics.filter((t) => names.has(t));
      const result = new Map<string, number>();
      if (present.length === 0) return result;
      const metadata = await this.#admin.metadata({ topics: present, forceUpdate: true });
      for (const topic of present) {
        const found = metadata.topics.get(topic);
        if (found) result.set(topic, found.partitionsCount);
      }
      return result;
    } catch (error) {
      throw kafkaUnavailable("reading topic metadata failed", error);
    }
  }

  #create(topic: string): Promise<number> {
    let pending = this.#creating.get(topic);
    if (!pending) {
      pending = this.#doCreate(topic).finally(() => this.#creating.delete(topic));
      this.#creating.set(topic, pending);
    }
    return pending;
  }

  async #doCreate(topic: string): Promise<number> {
    const settings = this.#policy.settingsFor?.(topic);
    const partitions = settings?.partitions ?? this.#policy.partitionsFor(topic) ?? this.#policy.defaultPartitions;
    const cap = this.#policy.capReplication === true;
    const brokers = settings?.replicationFactor !== undefined && cap ? await brokerCount(this.#admin) : 0;
    const replication = replicationFor(settings, brokers, cap, this.#policy.replicationFactor);
    if (replication.cappedFrom !== undefined) {
      log.log(
        "info",
        `creating topic ${topic} with replication ${replication.replicas}: the catalogue asks for ${replication.cappedFrom}, the cluster has ${brokers} broker(s) (kafka.topics.capReplication)`,
        { destination: topic },
      );
    }
    try {
      await this.#admin.createTopics({
        topics: [topic],
        partitions,
        replicas: replication.replicas,
        configs: configsOf(settings),
      });
    } catch (error) {
      // Another bridge instance (or a parallel request) created it first: that is success.
      if (!/already exists/i.test(flatten(error))) throw kafkaUnavailable(`creating topic ${topic} failed`, error);
    }
    const count = await this.awaitReady(topic);
    this.#known.set(topic, count);
    return count;
  }

  /**
   * A new topic reaches the other brokers' metadata a moment after CreateTopics answers; producing
   * before every partition has a leader fails. Resolves with the partition count once every
   * partition has a leader (15 s at most, then `upstream_unavailable`).
   */
  async awaitReady(topic: string): Promise<number> {
    const deadline = Date.now() + 15_000;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
        const found = metadata.topics.get(topic);
        if (
          found &&
          found.partitions.length === found.partitionsCount &&
          found.partitions.every((p) => p.leader >= 0)
        ) {
          return found.partitionsCount;
        }
      } catch {
        // Not visible yet on the broker that answered: try again below.
      }
      if (Date.now() > deadline)
        throw kafkaUnavailable(`topic ${topic} has no leader for every partition after creation`, undefined);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async close(): Promise<void> {
    await this.#admin.close();
  }
}
