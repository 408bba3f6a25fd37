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

export interface TopicDefinition {
  /** `gov.<domain>.<entity>` */
  readonly name: string;
  readonly partitions: number;
}

export interface DomainCatalogue {
  readonly domain: string;
  readonly events: readonly EventTypeDefinition[];
  readonly topics: readonly TopicDefinition[];
}
