import type { ConsumedRecord } from "./record.ts";

interface RawRecord {
  readonly key: Buffer | null | undefined;
  readonly value: Buffer | null | undefined;
  readonly headers: Iterable<[Buffer | null, Buffer | null]> | Map<Buffer, Buffer> | undefined;
}

/**
 * Bytes from Kafka into the Upstash message shape: UTF-8 strings, `""` for a missing key or
 * value (the protocol has no null), headers as `[{key, value}]`, numbers for offset and time.
 */
export function decodeRecord(
  topic: string,
  partition: number,
  offset: bigint,
  timestamp: bigint,
  record: RawRecord,
): ConsumedRecord {
  const headers: { key: string; value: string }[] = [];
  for (const [key, value] of record.headers ?? []) {
    headers.push({ key: key?.toString("utf8") ?? "", value: value?.toString("utf8") ?? "" });
  }
  return {
    topic,
    partition,
    offset: Number(offset),
    timestamp: Number(timestamp),
    key: record.key?.toString("utf8") ?? "",
    value: record.value?.toString("utf8") ?? "",
    headers,
  };
}
