import { Consumer } from "@platformatic/kafka";
import { EdgebusError } from "#shared/errors.ts";
import { clientOptions, type KafkaConnection } from "./connection.ts";
import { kafkaErrorCode, kafkaUnavailable } from "./kafka-errors.ts";
import type { ConsumedRecord } from "./record.ts";
import { decodeRecord } from "./record-decoding.ts";
import { assertTopicName } from "./topic-admin.ts";

/** Record-batch attribute bit of transaction markers, which are not messages. */
const CONTROL_BATCH = 0b10_0000;
/** Kafka error codes a reader can cause with its input. */
const OFFSET_OUT_OF_RANGE = 1;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** Leadership and metadata races that a metadata refresh fixes (Kafka protocol error codes). */
const TRANSIENT = new Set([
  UNKNOWN_TOPIC_OR_PARTITION,
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  9, // REPLICA_NOT_AVAILABLE
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
  100, // UNKNOWN_TOPIC_ID
]);

export interface PartitionRead {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Longest wait for data when the partition has nothing at `offset` yet (ms). */
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/**
 * Reads a partition from a given offset without a consumer group (the Upstash `/fetch` call).
 *
 * Guarantees: the result starts with the record at exactly `offset` when it exists (records
 * before it in the same batch are dropped), is ordered by offset, and is `[]` when nothing
 * arrives within `timeoutMs`. An invalid topic name, or an offset before the log start or past
 * the log end, is `bad_request`; an unknown topic or partition is `not_found`.
 */
export class PartitionReader {
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;

  constructor(connection: KafkaConnection) {
    // A Consumer needs a group id to exist, but fetch() never joins the group.
    this.#consumer = new Consumer({ ...clientOptions(connection, "fetcher"), groupId: "edgebus-bridge-fetch" });
  }

  async read(request: PartitionRead): Promise<ConsumedRecord[]> {
    // A name Kafka cannot hold is the caller's mistake (400), not a metadata failure (503).
    assertTopicName(request.topic);
    // Leadership moves (a broker restarting, a topic just created): refresh metadata and retry a
    // few times before answering 503, as the Java consumer does.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#readOnce(request, attempt > 1);
      } catch (error) {
        const code = (error as { kafkaCode?: number }).kafkaCode;
        if (code === undefined || !TRANSIENT.has(code) || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  async #readOnce(request: PartitionRead, refresh: boolean): Promise<ConsumedRecord[]> {
    const metadata = await this.#consumer
      .metadata({ topics: [request.topic], forceUpdate: refresh })
      .catch((error: unknown) => {
        if (/unknown topic|UNKNOWN_TOPIC/i.test(String((error as Error)?.message ?? error))) {
          throw new EdgebusError("not_found", `unknown topic: ${request.topic}`);
        }
        throw kafkaUnavailable("reading metadata failed", error);
      });
    const topic = metadata.topics.get(request.topic);
    if (!topic) throw new EdgebusError("not_found", `unknown topic: ${request.topic}`);
    const partition = topic.partitions[request.partition];
    if (!partition) {
      throw new EdgebusError("not_found", `topic ${request.topic} has no partition ${request.partition}`, {
        details: { partitions: topic.partitionsCount },
      });
    }
    let response: Awaited<ReturnType<Consumer["fetch"]>>;
    try {
      response = await this.#consumer.fetch({
        node: partition.leader,
        maxWaitTime: request.timeoutMs,
        minBytes: 1,
        maxBytes: request.maxBytes,
        topics: [
          {
            topicId: topic.id,
            partitions: [
              {
                partition: request.partition,
                currentLeaderEpoch: -1,
                fetchOffset: BigInt(request.offset),
                lastFetchedEpoch: -1,
                partitionMaxBytes: request.maxBytes,
              },
            ],
          },
        ],
      });
    } catch (error) {
      throw readError(request, kafkaErrorCode(error), error);
    }
    const records: ConsumedRecord[] = [];
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        if (partitionResponse.errorCode !== 0) throw readError(request, partitionResponse.errorCode, undefined);
        for (const batch of partitionResponse.records ?? []) {
          if (batch.attributes & CONTROL_BATCH) continue;
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            if (offset < BigInt(request.offset)) continue;
            records.push(
              decodeRecord(
                request.topic,
                request.partition,
                offset,
                batch.firstTimestamp + record.timestampDelta,
                record,
              ),
            );
          }
        }
      }
    }
    return records;
  }

  async close(): Promise<void> {
    await this.#consumer.close();
  }
}

function readError(request: PartitionRead, code: number | undefined, cause: unknown): EdgebusError {
  const error = classify(request, code, cause);
  // The Kafka code travels along so read() can tell a leadership race from a final answer.
  Object.defineProperty(error, "kafkaCode", { value: code, enumerable: false });
  return error;
}

function classify(request: PartitionRead, code: number | undefined, cause: unknown): EdgebusError {
  if (code === OFFSET_OUT_OF_RANGE) {
    return new EdgebusError(
      "bad_request",
      `offset ${request.offset} is out of range for ${request.topic}/${request.partition}`,
      {
        details: { topic: request.topic, partition: request.partition, offset: request.offset },
      },
    );
  }
  if (code === UNKNOWN_TOPIC_OR_PARTITION) {
    return new EdgebusError("not_found", `unknown topic or partition: ${request.topic}/${request.partition}`);
  }
  return kafkaUnavailable(`fetch from ${request.topic}/${request.partition} failed`, cause ?? `error code ${code}`);
}
