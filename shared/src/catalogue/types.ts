import type { z } from "zod";

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
  /** One realistic valid `data` example (used in docs, OpenAPI and tests). */
  readonly example: z.input<Data>;
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
