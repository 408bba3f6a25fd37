import { describe, expect, it } from "vitest";
import type { PartitionTail, TailFetchOptions, TailPosition, TailRecord, TailResult } from "../kafka/partition-tail.ts";
import { StreamHub, type StreamRecord, type StreamSubscriber } from "./stream-hub.ts";

/** A one-partition log in memory, answering at most 3 records per fetch, with a hole (a transaction marker) at 5–6. */
class FakeTail {
  readonly log: TailRecord[] = [];
  fetches = 0;

  append(offset: number): void {
    this.log.push({
      topic: "t",
      partition: 0,
      offset,
      timestamp: offset,
      key: "",
      value: Buffer.from("{}"),
      headers: [
        { key: "ce_specversion", value: "1.0" },
        { key: "ce_id", value: `e${offset}` },
        { key: "ce_source", value: "/s" },
        { key: "ce_type", value: "t" },
      ],
    });
  }

  async fetch(positions: readonly TailPosition[], options: TailFetchOptions): Promise<TailResult[]> {
    this.fetches++;
    const end = (this.log.at(-1)?.offset ?? -1) + 1;
    if (positions.every((p) => p.offset >= end)) await new Promise((r) => setTimeout(r, options.maxWaitMs));
    return positions.map((p) => {
      const records = this.log.filter((r) => r.offset >= p.offset).slice(0, 3);
      const last = records.at(-1);
      // The marker batch after offset 4 ends at 6: an answer ending at 4 moves on to 7.
      const nextOffset = last ? (last.offset === 4 ? 7 : last.offset + 1) : p.offset;
      return { ...p, records, nextOffset };
    });
  }

  async bounds() {
    return [{ partition: 0, start: 0, end: (this.log.at(-1)?.offset ?? -1) + 1 }];
  }
}

class Stream implements StreamSubscriber {
  readonly topic = "t";
  readonly cursors: Map<number, number>;
  readonly got: number[] = [];
  closed = false;
  readonly order: string[];
  readonly name: string;

  constructor(start: number, order: string[], name: string) {
    this.order = order;
    this.name = name;
    this.cursors = new Map([[0, start]]);
  }

  deliver(record: StreamRecord): void {
    this.got.push(record.record.offset);
    this.order.push(`${this.name}${record.record.offset}`);
  }

  fail(): void {
    this.closed = true;
  }
}

describe("StreamHub", () => {
  it("gives each stream every record from its cursor once, in order; a resuming stream does not hold back the live one", async () => {
    const tail = new FakeTail();
    for (let offset = 0; offset < 20; offset++) if (offset !== 5 && offset !== 6) tail.append(offset);
    const hub = new StreamHub(tail as unknown as PartitionTail, { pollWaitMs: 50, partitionMaxBytes: 1024 });
    const order: string[] = [];
    const behind = new Stream(0, order, "a");
    const live = new Stream(20, order, "b");
    hub.add(behind);
    hub.add(live);
    await new Promise((r) => setTimeout(r, 20));
    for (const offset of [20, 21, 22]) tail.append(offset);
    for (let i = 0; i < 100 && behind.got.length < 21; i++) await new Promise((r) => setTimeout(r, 20));
    await hub.close();
    const expected = [...Array.from({ length: 23 }, (_, i) => i)].filter((o) => o !== 5 && o !== 6);
    expect(behind.got).toEqual(expected);
    expect(live.got).toEqual([20, 21, 22]);
    // The live stream got the new records before the one resuming from 0 had caught up.
    expect(order.indexOf("b20")).toBeLessThan(order.indexOf("a19"));
    expect(behind.cursors.get(0)).toBe(23);
  });

  it("streams at one position share one fetch however many they are", async () => {
    const tail = new FakeTail();
    tail.append(0);
    const hub = new StreamHub(tail as unknown as PartitionTail, { pollWaitMs: 100, partitionMaxBytes: 1024 });
    const order: string[] = [];
    const streams = Array.from({ length: 200 }, (_, i) => new Stream(1, order, `s${i}-`));
    for (const s of streams) hub.add(s);
    await new Promise((r) => setTimeout(r, 350));
    await hub.close();
    // About one long poll per 100 ms, not 200 per round.
    expect(tail.fetches).toBeLessThanOrEqual(6);
  });
});
