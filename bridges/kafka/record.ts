/** A Kafka record as the bridge writes it: strings in, bytes on the wire. */
export interface RecordToProduce {
  readonly topic: string;
  /** Explicit partition; otherwise chosen from the key (murmur2, Java-compatible) or round robin. */
  readonly partition?: number;
  readonly key?: string;
  /** Never absent: a null value is a tombstone on compacted topics, so the bridge never writes one. */
  readonly value: string | Uint8Array;
  readonly headers?: readonly { readonly key: string; readonly value: string }[];
  /** Milliseconds since the epoch; the broker's time when absent. */
  readonly timestamp?: number;
}

/** Where Kafka stored a record (`acks=all`). */
export interface RecordReceipt {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

/** A record read back from Kafka, in the Upstash Kafka REST message shape. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  /** "" when the record has no key (Upstash's convention). */
  readonly key: string;
  readonly value: string | Uint8Array;
  readonly headers: { key: string; value: string }[];
}
