import type { RecordProducer } from "../../kafka/record-producer.ts";
import type { BindingMode } from "../cloud-event-binding.ts";
import { TopicMapping, type TopicMappingRules } from "../topic-mapping.ts";
import type { MirrorTargetConfig } from "./config-schema.ts";
import { KafkaTarget } from "./kafka-target.ts";
import type { MirrorTarget } from "./mirror-target.ts";
import { NatsTarget } from "./nats-target.ts";
import { RabbitMqTarget } from "./rabbitmq-target.ts";
import { RedisStreamsTarget } from "./redis-streams-target.ts";

/** The `mirror` section as the targets need it (bridges/config.ts). */
export interface MirrorSection extends TopicMappingRules {
  readonly mode: BindingMode;
  readonly targets?: readonly MirrorTargetConfig[] | undefined;
}

/** The configured targets, or the default: Kafka alone. */
export function mirrorTargetsOf(mirror: MirrorSection): readonly MirrorTargetConfig[] {
  return mirror.targets ?? [{ kind: "kafka" }];
}

/** A target's topic mapping: its own include / exclude / rename, each defaulting to the section's. */
export function targetMapping(mirror: MirrorSection, target: MirrorTargetConfig): TopicMapping {
  return new TopicMapping({
    include: target.include ?? mirror.include ?? [],
    exclude: target.exclude ?? mirror.exclude ?? [],
    rename: target.rename ?? mirror.rename ?? [],
  });
}

/**
 * One adapter per configured target. `kafka` is the bridge's Kafka producer and its metadata probe;
 * required when a Kafka target is listed. The non-Kafka adapters start connecting at once and keep
 * trying in the background: a broker that is down at start makes deliveries fail (retryable), it
 * does not stop the bridge.
 */
export function createMirrorTargets(
  mirror: MirrorSection,
  kafka: { readonly producer: RecordProducer; readonly probe: () => Promise<unknown> } | undefined,
): MirrorTarget[] {
  return mirrorTargetsOf(mirror).map((target) => {
    const mapping = targetMapping(mirror, target);
    const mode = target.mode ?? mirror.mode;
    const name = target.name ?? target.kind;
    switch (target.kind) {
      case "kafka":
        if (!kafka) throw new Error("a Kafka mirror target needs the bridge's Kafka producer");
        return new KafkaTarget({ name, producer: kafka.producer, probe: kafka.probe, mapping, mode });
      case "rabbitmq":
        return new RabbitMqTarget({
          name,
          url: target.url,
          exchange: target.exchange,
          queues: target.queues,
          maxMessageBytes: target.maxMessageBytes,
          timeoutMs: target.timeoutMs,
          mapping,
          mode,
        });
      case "nats":
        return new NatsTarget({
          name,
          url: target.url,
          subjectPrefix: target.subjectPrefix,
          stream: target.stream,
          timeoutMs: target.timeoutMs,
          mapping,
          mode,
        });
      default:
        return new RedisStreamsTarget({
          name,
          url: target.url,
          keyPrefix: target.keyPrefix,
          markerPrefix: target.markerPrefix,
          maxLen: target.maxLen,
          dedupeTtlSeconds: target.dedupeTtlSeconds,
          maxMessageBytes: target.maxMessageBytes,
          timeoutMs: target.timeoutMs,
          mapping,
          mode,
        });
    }
  });
}
