import { ConsumerRegistry, type ConsumerRegistryOptions } from "../kafka-rest/consumer-registry.ts";
import type { KafkaConnection } from "./connection.ts";
import { PartitionReader } from "./partition-reader.ts";
import { RecordProducer } from "./record-producer.ts";
import { TopicAdmin, type TopicPolicy } from "./topic-admin.ts";

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
): KafkaStack {
  const topics = new TopicAdmin(connection, policy);
  const producer = new RecordProducer(connection, topics);
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
