import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import {
  OFFSET_OUT_OF_RANGE,
  type PartitionTail,
  type TailPosition,
  type TailRecord,
} from "../kafka/partition-tail.ts";
import { type DecodedCloudEvent, fromKafkaRecord } from "../mirror/cloud-event-binding.ts";

const log = createLogger({ component: "topic-streams" });

/** A record handed to every stream that follows its partition; decoded at most once whatever their number. */
export class StreamRecord {
  readonly record: TailRecord;
  #decoded: DecodedCloudEvent | undefined;
  #json: string | undefined;

  constructor(record: TailRecord) {
    this.record = record;
  }

  get decoded(): DecodedCloudEvent {
    this.#decoded ??= fromKafkaRecord(this.record);
    return this.#decoded;
  }

  /** The structured CloudEvent as JSON text (one line); undefined when the record is not a CloudEvent. */
  get json(): string | undefined {
    const decoded = this.decoded;
    if (!decoded.ok) return undefined;
    this.#json ??= JSON.stringify(decoded.event);
    return this.#json;
  }
}

/** One open stream, as the hub sees it. */
export interface StreamSubscriber {
  readonly topic: string;
  /** The next offset to deliver, per partition the stream follows; the hub advances it. */
  readonly cursors: Map<number, number>;
  /** True once the stream is gone (the hub then forgets it). */
  readonly closed: boolean;
  /** A record at the cursor of its partition (already advanced past it). Must not block. */
  deliver(record: StreamRecord): void;
  /** The stream cannot go on (its topic or partition vanished). */
  fail(error: EdgebusError): void;
}

export interface StreamHubOptions {
  /** How long a fetch with every stream at the log end waits at the broker for new records (ms). */
  readonly pollWaitMs: number;
  /** Bytes asked of Kafka per partition and fetch. */
  readonly partitionMaxBytes: number;
}

/**
 * Feeds every open topic stream from one read loop, so the Kafka cost does not grow with the number
 * of streams: each round sends one Fetch per partition leader for each distinct position the
 * streams are at (streams at the log end share one position, so 200 idle streams of one topic are
 * one long poll), and hands each record to every stream whose cursor it is at.
 *
 * No gap, no repeat: a stream receives the records of an answer only when the answer starts at or
 * before its cursor; it gets those at or after its cursor, in offset order, and its cursor moves
 * past the answer (transaction markers included). A stream behind the others (resuming) is read
 * from its own position in the same round, without the broker waiting for it (`maxWait` 0), until
 * it meets the others. An offset that retention removed moves the cursor to the log start.
 *
 * The hub never waits for a stream: a stream whose client cannot keep up drops itself in
 * `deliver` (bounded buffering, see routes.ts).
 */
export class StreamHub {
  readonly #tail: PartitionTail;
  readonly #options: StreamHubOptions;
  readonly #streams = new Set<StreamSubscriber>();
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(tail: PartitionTail, options: StreamHubOptions) {
    this.#tail = tail;
    this.#options = options;
  }

  get size(): number {
    return this.#streams.size;
  }

  add(stream: StreamSubscriber): void {
    if (this.#stopped) return;
    this.#streams.add(stream);
    this.#ensureLoop();
  }

  #ensureLoop(): void {
    this.#loop ??= this.#run().finally(() => {
      this.#loop = undefined;
      // A stream added while the loop was ending.
      if (!this.#stopped && this.#streams.size > 0) this.#ensureLoop();
    });
  }

  remove(stream: StreamSubscriber): void {
    this.#streams.delete(stream);
  }

  /** Stops the loop after its round in flight. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#streams.clear();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      for (const stream of this.#streams) if (stream.closed) this.#streams.delete(stream);
      if (this.#streams.size === 0) return;
      let failed = false;
      try {
        failed = await this.#round();
      } catch (error) {
        failed = true;
        log.log("warn", "stream round failed", { error_message: String(error) });
      }
      // A broker down: wait before asking again instead of spinning.
      if (failed) await new Promise((resolve) => setTimeout(resolve, Math.max(250, this.#options.pollWaitMs)));
    }
  }

  /** One round over every distinct position; true when some partition could not be read. */
  async #round(): Promise<boolean> {
    const positions = new Map<string, { topic: string; partition: number; offsets: Set<number> }>();
    for (const stream of this.#streams) {
      if (stream.closed) continue;
      for (const [partition, offset] of stream.cursors) {
        const key = `${stream.topic}\u0000${partition}`;
        let entry = positions.get(key);
        if (!entry) {
          entry = { topic: stream.topic, partition, offsets: new Set() };
          positions.set(key, entry);
        }
        entry.offsets.add(offset);
      }
    }
    // Round r asks each partition for its r-th lowest position: a Fetch names a partition once.
    const rounds: TailPosition[][] = [];
    for (const { topic, partition, offsets } of positions.values()) {
      [...offsets]
        .sort((a, b) => a - b)
        .forEach((offset, r) => {
          rounds[r] ??= [];
          rounds[r].push({ topic, partition, offset });
        });
    }
    if (rounds.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#options.pollWaitMs));
      return false;
    }
    let failed = false;
    for (let r = 0; r < rounds.length && !this.#stopped; r++) {
      const last = r === rounds.length - 1;
      const results = await this.#tail.fetch(rounds[r] as TailPosition[], {
        maxWaitMs: last ? this.#options.pollWaitMs : 0,
        partitionMaxBytes: this.#options.partitionMaxBytes,
      });
      for (const result of results) {
        if (result.error) {
          failed = true;
          if (result.kafkaCode === OFFSET_OUT_OF_RANGE) await this.#realign(result);
          continue;
        }
        const records = result.records.map((record) => new StreamRecord(record));
        for (const stream of this.#streams) {
          if (stream.closed || stream.topic !== result.topic) continue;
          const cursor = stream.cursors.get(result.partition);
          // Only an answer that starts at or before the cursor leaves no gap behind it.
          if (cursor === undefined || cursor < result.offset || cursor >= result.nextOffset) continue;
          for (const record of records) {
            if (stream.closed) break;
            if (record.record.offset < (stream.cursors.get(result.partition) as number)) continue;
            stream.cursors.set(result.partition, record.record.offset + 1);
            stream.deliver(record);
          }
          if (!stream.closed && (stream.cursors.get(result.partition) as number) < result.nextOffset) {
            stream.cursors.set(result.partition, result.nextOffset);
          }
        }
      }
    }
    return failed;
  }

  /** Cursors outside the log (retention removed the records, or the topic was recreated) move into it. */
  async #realign(position: TailPosition): Promise<void> {
    try {
      const bounds = (await this.#tail.bounds(position.topic))[position.partition];
      for (const stream of this.#streams) {
        if (stream.topic !== position.topic) continue;
        const cursor = stream.cursors.get(position.partition);
        if (cursor === undefined) continue;
        if (!bounds) {
          stream.fail(
            new EdgebusError("not_found", `${position.topic} has no partition ${position.partition} any more`),
          );
          continue;
        }
        if (cursor < bounds.start) stream.cursors.set(position.partition, bounds.start);
        else if (cursor > bounds.end) stream.cursors.set(position.partition, bounds.end);
      }
    } catch (error) {
      log.log("warn", "could not read the bounds of a partition out of range", {
        destination: `${position.topic}/${position.partition}`,
        error_message: String(error),
      });
    }
  }
}
