import { Admin } from "@platformatic/kafka";
import { clientOptions, type KafkaConnection } from "./connection.ts";
import { flatten } from "./kafka-errors.ts";

/** One partition as the cluster metadata describes it. */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: number;
  readonly inSyncReplicas: number;
  readonly leader: number;
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface GroupOffset extends PartitionOffset {
  readonly group: string;
}

/** The part of a collection that failed: `metadata`, `offsets`, `groups` or `group_offsets`. */
export interface StatsError {
  readonly stage: "metadata" | "offsets" | "groups" | "group_offsets";
  readonly message: string;
}

/**
 * What one collection saw. Each stage stands alone: a topic whose offsets could not be listed is
 * missing from `logEndOffsets` (and listed in `errors`) while the others are there.
 */
export interface ClusterSnapshot {
  /** Brokers in the cluster metadata (KRaft lists the registered, unfenced ones); undefined when metadata failed. */
  readonly brokers: number | undefined;
  readonly partitions: readonly PartitionState[];
  readonly logEndOffsets: readonly PartitionOffset[];
  /** Committed offsets of every consumer group (groups that committed nothing are absent). */
  readonly groupOffsets: readonly GroupOffset[];
  readonly errors: readonly StatsError[];
}

/** Groups asked per OffsetFetch call. */
const GROUPS_PER_CALL = 50;

/**
 * Reads the cluster's state for the kafka_exporter-style metrics: brokers and partitions from the
 * metadata, log-end offsets (ListOffsets to each partition's leader), consumer groups
 * (ListGroups on every broker) and their committed offsets (OffsetFetch on each coordinator).
 *
 * It has its own admin client with short timeouts and one retry, so a collection never waits
 * behind the gateway's requests and a dead broker costs seconds, not the client's full retry
 * budget. When ListGroups fails (a broker that is down but still in the metadata) the groups of
 * the last successful listing are asked for their offsets all the same.
 */
export class ClusterStats {
  readonly #admin: Admin;
  #knownGroups: string[] = [];

  constructor(connection: KafkaConnection, timeoutMs: number) {
    const timeout = Math.max(500, Math.min(timeoutMs, connection.requestTimeoutMs));
    this.#admin = new Admin({
      ...clientOptions(connection, "metrics"),
      timeout,
      requestTimeout: timeout,
      connectTimeout: Math.min(timeout, 3000),
      retries: 1,
      retryDelay: 100,
    });
  }

  async collect(): Promise<ClusterSnapshot> {
    const errors: StatsError[] = [];
    const fail = (stage: StatsError["stage"], error: unknown) => errors.push({ stage, message: flatten(error) });
    let metadata: Awaited<ReturnType<Admin["metadata"]>>;
    try {
      const names = await this.#admin.listTopics({ includeInternals: false });
      metadata = await this.#admin.metadata({ topics: names, forceUpdate: true });
    } catch (error) {
      fail("metadata", error);
      return { brokers: undefined, partitions: [], logEndOffsets: [], groupOffsets: [], errors };
    }
    const partitions: PartitionState[] = [];
    for (const [topic, described] of [...metadata.topics].sort(([a], [b]) => a.localeCompare(b))) {
      described.partitions.forEach((p, partition) => {
        if (!p) return;
        partitions.push({
          topic,
          partition,
          replicas: p.replicas.length,
          inSyncReplicas: p.isr.length,
          leader: p.leader,
        });
      });
    }

    const [logEndOffsets, groupOffsets] = await Promise.all([
      this.#logEndOffsets(partitions, fail),
      this.#groupOffsets(fail),
    ]);
    return { brokers: metadata.brokers.size, partitions, logEndOffsets, groupOffsets, errors };
  }

  /** One ListOffsets call per topic, only for partitions that have a leader: one bad topic does not hide the others. */
  async #logEndOffsets(
    partitions: readonly PartitionState[],
    fail: (stage: StatsError["stage"], error: unknown) => void,
  ): Promise<PartitionOffset[]> {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) {
      if (p.leader < 0) continue;
      byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    }
    const results = await Promise.allSettled(
      [...byTopic].map(([name, indexes]) =>
        this.#admin.listOffsets({
          topics: [{ name, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
        }),
      ),
    );
    const offsets: PartitionOffset[] = [];
    for (const result of results) {
      if (result.status === "rejected") {
        fail("offsets", result.reason);
        continue;
      }
      for (const topic of result.value) {
        for (const p of topic.partitions)
          offsets.push({ topic: topic.name, partition: p.partitionIndex, offset: Number(p.offset) });
      }
    }
    return offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  async #groupOffsets(fail: (stage: StatsError["stage"], error: unknown) => void): Promise<GroupOffset[]> {
    try {
      const groups = await this.#admin.listGroups();
      this.#knownGroups = [...groups.keys()].sort();
    } catch (error) {
      fail("groups", error);
    }
    const offsets: GroupOffset[] = [];
    for (let i = 0; i < this.#knownGroups.length; i += GROUPS_PER_CALL) {
      const chunk = this.#knownGroups.slice(i, i + GROUPS_PER_CALL);
      try {
        const listed = await this.#admin.listConsumerGroupOffsets({ groups: chunk });
        for (const group of listed) {
          for (const topic of group.topics) {
            for (const p of topic.partitions) {
              if (p.committedOffset < 0n) continue;
              offsets.push({
                group: group.groupId,
                topic: topic.name,
                partition: p.partitionIndex,
                offset: Number(p.committedOffset),
              });
            }
          }
        }
      } catch (error) {
        fail("group_offsets", error);
      }
    }
    return offsets;
  }

  async close(): Promise<void> {
    await this.#admin.close();
  }
}
