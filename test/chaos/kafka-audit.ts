/**
 * Reads a family of Kafka topics from the start and audits them against what the client had
 * acknowledged: every acknowledged event present at least once (by `ce_source` + `ce_id`), how
 * many copies, and whether each key's events first appear in the order they were sent.
 */

import type { ConsumedRecord } from "../../bridges/kafka/record.ts";
import { createKafkaStack } from "../../bridges/kafka-stack.ts";

/** What the audit needs of one record. */
export interface AuditRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: string;
}

export interface KafkaAudit {
  records: number;
  uniqueEvents: number;
  /** Records beyond the first copy of an event. */
  duplicates: number;
  /** Acknowledged events with no record: losses. */
  missing: string[];
  /** Events in Kafka the client never saw acknowledged (its last answer was lost or it gave up). */
  unacknowledged: string[];
  /** Keys whose order was checked. */
  keysChecked: number;
  /** Copies of one event (same `ce_source` + `ce_id`) whose key, value or headers differ from the first. */
  duplicateMismatches: string[];
  /** Keys whose first occurrences are not in send order, with the order found. */
  orderViolations: { key: string; sent: string[]; found: string[] }[];
  /** Records whose key is not the event's `partitionkey`, or that sit in two partitions for one key. */
  keyMismatches: string[];
}

export const eventRef = (source: string, id: string) => `${source} ${id}`;

/**
 * Pure part of the audit. `records` in offset order within each partition; `sentOrder` = each
 * key's acknowledged events in the order they were sent (refs from `eventRef`).
 */
export function auditRecords(
  records: readonly AuditRecord[],
  acknowledged: ReadonlySet<string>,
  sentOrder: ReadonlyMap<string, readonly string[]>,
): KafkaAudit {
  const copies = new Map<string, number>();
  const firstCopy = new Map<string, string>();
  const duplicateMismatches: string[] = [];
  const fingerprint = (record: AuditRecord) =>
    JSON.stringify([record.key, record.value, Object.entries(record.headers).sort(([a], [b]) => (a < b ? -1 : 1))]);
  const firstByKey = new Map<string, string[]>();
  const partitionOfKey = new Map<string, string>();
  const keyMismatches: string[] = [];
  const sorted = [...records].sort((a, b) =>
    a.topic === b.topic
      ? a.partition === b.partition
        ? a.offset - b.offset
        : a.partition - b.partition
      : a.topic < b.topic
        ? -1
        : 1,
  );
  for (const record of sorted) {
    const ref = eventRef(record.headers.ce_source ?? "?", record.headers.ce_id ?? "?");
    const seen = copies.get(ref) ?? 0;
    copies.set(ref, seen + 1);
    if (record.headers.ce_partitionkey !== undefined && record.key !== record.headers.ce_partitionkey) {
      keyMismatches.push(`${ref}: key ${record.key} ≠ partitionkey ${record.headers.ce_partitionkey}`);
    }
    const where = `${record.topic}/${record.partition}`;
    const known = partitionOfKey.get(record.key);
    if (known === undefined) partitionOfKey.set(record.key, where);
    else if (known !== where) keyMismatches.push(`${ref}: key ${record.key} in ${known} and ${where}`);
    if (seen > 0 && firstCopy.get(ref) !== fingerprint(record)) duplicateMismatches.push(ref);
    if (seen === 0) {
      firstCopy.set(ref, fingerprint(record));
      const list = firstByKey.get(record.key) ?? [];
      list.push(ref);
      firstByKey.set(record.key, list);
    }
  }
  const orderViolations: KafkaAudit["orderViolations"] = [];
  for (const [key, sent] of sentOrder) {
    const found = (firstByKey.get(key) ?? []).filter((ref) => acknowledged.has(ref));
    const expected = sent.filter((ref) => copies.has(ref));
    if (found.join("\n") !== expected.join("\n")) orderViolations.push({ key, sent: [...sent], found });
  }
  const missing = [...acknowledged].filter((ref) => !copies.has(ref));
  const unacknowledged = [...copies.keys()].filter((ref) => !acknowledged.has(ref));
  return {
    records: records.length,
    uniqueEvents: copies.size,
    duplicates: records.length - copies.size,
    missing,
    unacknowledged,
    keysChecked: sentOrder.size,
    duplicateMismatches,
    orderViolations,
    keyMismatches,
  };
}

function asAuditRecord(record: ConsumedRecord): AuditRecord {
  const headers: Record<string, string> = {};
  for (const { key, value } of record.headers) headers[key] = value;
  const value = typeof record.value === "string" ? record.value : new TextDecoder().decode(record.value);
  return { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, headers, value };
}

/** Every record of every topic whose name starts with `prefix`, read from offset 0 to the end. */
export async function readTopics(brokers: string[], prefix: string): Promise<AuditRecord[]> {
  const stack = createKafkaStack(
    { brokers, clientId: "edgebus-chaos-audit", requestTimeoutMs: 15_000 },
    { autoCreate: false, partitionsFor: () => 1, defaultPartitions: 1, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 1 },
  );
  try {
    const counts = await stack.topics.partitionCounts();
    const topics = Object.entries(counts).filter(([name]) => name.startsWith(prefix));
    const records: AuditRecord[] = [];
    for (const [topic, partitions] of topics) {
      const listed = await stack.topics.admin.listOffsets({
        topics: [
          {
            name: topic,
            partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })),
          },
        ],
      });
      for (const { partitionIndex, offset } of listed[0]?.partitions ?? []) {
        const end = Number(offset);
        let next = 0;
        while (next < end) {
          const batch = await stack.reader.read({
            topic,
            partition: partitionIndex,
            offset: next,
            timeoutMs: 2000,
            maxBytes: 4 * 1024 * 1024,
          });
          if (batch.length === 0) throw new Error(`${topic}/${partitionIndex}: nothing at offset ${next} < end ${end}`);
          for (const record of batch) if (record.offset < end) records.push(asAuditRecord(record));
          next = (batch.at(-1)?.offset ?? next) + 1;
        }
      }
    }
    return records;
  } finally {
    await stack.close();
  }
}
