import type { KafkaConnection } from "./kafka/connection.ts";
import { PartitionReader } from "./kafka/partition-reader.ts";
import { RecordProducer } from "./kafka/record-producer.ts";
import { TopicAdmin, type TopicPolicy } from "./kafka/topic-admin.ts";
import { ConsumerRegistry, type ConsumerRegistryOptions } from "./kafka-rest/consumer-registry.ts";

/** Every Kafka client one bridge process holds, built from one connection; `close()` flushes the producer first. */
export interface KafkaStack {
  readonly topics: TopicAdmin;
  readonly producer: RecordProducer;
  readonly reader: PartitionReader;
  readonly consumers: ConsumerRegistry;
  close(): Promise<void>;
}

export function createKafkaStack(
  connection: KafkaConnection,
  policy: TopicPolicy,
  consumers: ConsumerRegistryOptions,
  producerOptions: { maxQueuedBytes?: number } = {},
): KafkaStack {
  const topics = new TopicAdmin(connection, policy);
  const producer = new RecordProducer(connection, topics, producerOptions);
  const reader = new PartitionReader(connection);
  const registry = new ConsumerRegistry(connection, consumers);
  return {
    topics,
    producer,
    reader,
    consumers: registry,
    async close() {
      await producer.close();
      await Promise.allSettled([registry.close(), reader.close()]);
      await topics.close();
    },
  };
}
