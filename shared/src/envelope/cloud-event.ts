/**
 * The normalised event that travels through edgebus: a CloudEvents 1.0 event in its JSON
 * (structured) form. This is the body of every Cloudflare Queue message, the value of
 * structured-mode Kafka records, and the row in `edgebus.event_archive`.
 *
 * `source` + `id` is the duplicate key end to end. Extension attributes are lowercase
 * alphanumerics per the spec; edgebus uses the ones listed here.
 */
export interface CloudEventRecord {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  data?: unknown;
  /** Entity version, for ordering (a positive integer). */
  eventversion?: number;
  correlationid?: string;
  causationid?: string;
  /** Entity id; the Kafka record key. */
  partitionkey?: string;
  traceparent?: string;
  /** Reserved, set by the producer: the publishing API key's id (`extensions.ts`). */
  edgebuskeyid?: string;
  /** Reserved, set by the producer: the key holds `notify:direct-contact` (`extensions.ts`). */
  edgebusdirectcontact?: boolean;
  [extension: string]: unknown;
}

/** Names of the extension attributes edgebus understands from a caller. */
export const EDGEBUS_EXTENSIONS = [
  "eventversion",
  "correlationid",
  "causationid",
  "partitionkey",
  "traceparent",
] as const;

/** The `ce-*` headers of binary mode edgebus reads: the context attributes, then the extensions. */
export const BINARY_MODE_HEADERS: readonly string[] = [
  ...["specversion", "id", "source", "type", "time"].map((name) => `ce-${name}`),
  ...EDGEBUS_EXTENSIONS.map((name) => `ce-${name}`),
];

/**
 * The duplicate key of an event: `source`, U+0000, `id`. Built with `join`, which writes one flat
 * string, where `+` or a template would leave a chain of string pieces: the producer's memory dedup
 * store keeps up to 100,000 of these keys, and the flat form is one object instead of three or four.
 */
export function eventKey(event: Pick<CloudEventRecord, "source" | "id">): string {
  return [String(event.source), String(event.id)].join("\u0000");
}
