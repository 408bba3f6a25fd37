import type { z } from "zod";
import type { EventUpcaster } from "./upcaster.ts";

/**
 * The event catalogue's shape. A domain module (`schemas/<domain>.ts`) exports one
 * `DomainCatalogue`; `schemas/index.ts` combines the government domains into the default
 * `Catalogue`. Another catalogue (e.g. the orders/inventory/payments one used in tests) is just
 * another list of domains.
 */
export interface EventTypeDefinition<Data extends z.ZodType = z.ZodType> {
  /** `gov.<domain>.<entity>.<action>`, e.g. `gov.auth.citizen.created`. */
  readonly type: string;
  /** Schema version of `data`; a new version must be backward compatible with the previous one. */
  readonly version: number;
  readonly description: string;
  /** zod schema of the CloudEvent `data` (strict: unknown fields are rejected). */
  readonly data: Data;
  /** Earlier versions of `data`, oldest first, kept for the compatibility check. */
  readonly previousVersions?: readonly { version: number; data: z.ZodType }[];
  /**
   * Kafka topic of the type. Default: the type minus its action (`gov.auth.citizen.created` →
   * `gov.auth.citizen`); another organisation's catalogue names its own (`order-events`).
   */
  readonly topic?: string;
  /** Path in `data` of the entity id used as `partitionkey`/`subject` when the producer omits it. */
  readonly entityIdField?: string;
  /**
   * Consumers order this entity's events by the `eventversion` extension (a read model keeps the
   * newest version whatever the arrival order), so an event of this type without one could never
   * be applied: the producer rejects it (422 `schema_validation_failed`, issue at `eventversion`).
   * All types of one entity (Kafka topic) must agree. Default false: `eventversion` optional.
   */
  readonly requiresEventVersion?: boolean;
  /** One realistic valid `data` example (used in docs, OpenAPI and tests). */
  readonly example: z.input<Data>;
  /**
   * Other names services send this type under (`citizen.created` for `gov.auth.citizen.created`):
   * lowercase dot-separated segments, never a full type of the catalogue's namespace, unique in
   * the catalogue. The producer resolves them (`Catalogue.resolveType`); events travel on under
   * the full type.
   */
  readonly aliases?: readonly string[];
  /**
   * Other forms of `data` this type is sent in, each mapped to the current shape when received
   * (`upcaster.ts`); at most one recognises any `data`.
   */
  readonly upcasters?: readonly EventUpcaster[];
}

/** Kafka's topic-level codecs (`compression.type`); `producer` keeps what the producer sent. */
export const COMPRESSION_TYPES = ["uncompressed", "gzip", "snappy", "lz4", "zstd", "producer"] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

/**
 * A Kafka topic with the settings the bridge creates it with (and reports drift from). Settings
 * left out are the broker's defaults and are not checked.
 */
export interface TopicDefinition {
  /** `gov.<domain>.<entity>`, or the name the catalogue's own design uses (`order-events`). */
  readonly name: string;
  readonly partitions: number;
  /** Replicas per partition; capped at the broker count in development (the bridge logs it). */
  readonly replicationFactor?: number;
  /** `retention.ms`. */
  readonly retentionMs?: number;
  /** `compression.type`. */
  readonly compressionType?: CompressionType;
}

export interface DomainCatalogue {
  readonly domain: string;
  readonly events: readonly EventTypeDefinition[];
  readonly topics: readonly TopicDefinition[];
}
