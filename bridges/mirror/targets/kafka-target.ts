import { toEdgebusError } from "#shared/errors.ts";
import type { RecordReceipt } from "../../kafka/record.ts";
import type { RecordProducer } from "../../kafka/record-producer.ts";
import { type BindingMode, toKafkaRecord } from "../cloud-event-binding.ts";
import type { TopicMapping } from "../topic-mapping.ts";
import { type DeliveryOutcome, groupInOrder, type MirrorDelivery, type MirrorTarget } from "./mirror-target.ts";

export interface KafkaTargetOptions {
  readonly name?: string;
  /** The bridge's one Kafka producer (`acks=all`, idempotent), shared with the Kafka REST gateway. */
  readonly producer: RecordProducer;
  readonly mapping: TopicMapping;
  readonly mode: BindingMode;
  /** Kafka metadata now (the `/healthz` probe). */
  readonly probe?: () => Promise<unknown>;
}

/**
 * The mirror as it always was: each event becomes a record of the mapped topic per the CloudEvents
 * Kafka binding (`cloud-event-binding.ts`), key `partitionkey`, produced per destination topic so one
 * topic failing does not fail the others; confirmed after `acks=all`, with partition and offset.
 * The producer is the bridge's own; closing the target leaves it to the Kafka stack.
 */
export class KafkaTarget implements MirrorTarget {
  readonly kind = "kafka" as const;
  readonly name: string;
  readonly mapping: TopicMapping;
  readonly #producer: RecordProducer;
  readonly #mode: BindingMode;
  readonly #probe: (() => Promise<unknown>) | undefined;
  #connected = true;

  constructor(options: KafkaTargetOptions) {
    this.name = options.name ?? "kafka";
    this.mapping = options.mapping;
    this.#producer = options.producer;
    this.#mode = options.mode;
    this.#probe = options.probe;
  }

  get saturated(): boolean {
    return this.#producer.saturated;
  }

  /** The last delivery's or probe's view (the Kafka client connects per request). */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Not an `async` function: every group's records are built and handed to the producer (which
   * encodes them at once) before this returns, so nothing here keeps the events while Kafka answers.
   */
  deliver(deliveries: readonly MirrorDelivery[]): Promise<DeliveryOutcome[]> {
    const outcomes: DeliveryOutcome[] = new Array(deliveries.length);
    const sends: Promise<void>[] = [];
    for (const [topic, group] of groupInOrder(deliveries, (d) => d.topic)) {
      const indexes = group.map(({ index }) => index);
      let produced: Promise<RecordReceipt[]>;
      try {
        produced = this.#producer.produce(group.map(({ item }) => toKafkaRecord(item.event, topic, this.#mode)));
      } catch (error) {
        produced = Promise.reject(error);
      }
      sends.push(
        produced.then(
          (receipts) => {
            this.#connected = true;
            indexes.forEach((index, i) => {
              const receipt = receipts[i];
              outcomes[index] = {
                ok: true,
                receipt: { topic: receipt?.topic ?? topic, partition: receipt?.partition, offset: receipt?.offset },
              };
            });
          },
          (error: unknown) => {
            const failure = toEdgebusError(error);
            if (failure.code === "upstream_unavailable") this.#connected = false;
            for (const index of indexes) outcomes[index] = { ok: false, error: failure };
          },
        ),
      );
    }
    return Promise.all(sends).then(() => outcomes);
  }

  async probe(): Promise<void> {
    if (!this.#probe) return;
    try {
      await this.#probe();
      this.#connected = true;
    } catch (error) {
      this.#connected = false;
      throw error;
    }
  }

  async close(): Promise<void> {
    // The producer belongs to the bridge's Kafka stack, which flushes and closes it.
  }
}
