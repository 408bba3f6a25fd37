/**
 * A local HTTP server speaking the producer half of the Upstash Kafka REST protocol
 * (`POST /produce`, docs/protocols.md) that records every request exactly as it
 * arrived, so tests can assert the wire format `@upstash/kafka` produces through our publisher.
 * Records are kept per topic with offsets counted from 0 and a partition chosen from the key.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly rawBody: string;
}

export interface StoredRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key?: string;
  readonly value: string;
  readonly headers?: { key: string; value: string }[];
}

/** What the next request gets instead of a normal answer (status + raw body), or a hang. */
export type ScriptedAnswer = { status: number; body: string } | "hang";

export class KafkaRestRecorder {
  readonly requests: RecordedRequest[] = [];
  readonly records: StoredRecord[] = [];
  readonly #scripted: ScriptedAnswer[] = [];
  readonly #nextOffset = new Map<string, number>();
  #server: Server | undefined;
  #hanging: (() => void)[] = [];
  url = "";
  readonly username: string;
  readonly password: string;
  readonly partitions: number;

  constructor(username: string, password: string, partitions = 3) {
    this.username = username;
    this.password = password;
    this.partitions = partitions;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let rawBody = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        rawBody += chunk;
      });
      req.on("end", () => {
        this.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, rawBody });
        const answer = this.#answer(req, rawBody);
        if (answer === "hang") {
          this.#hanging.push(() => res.destroy());
          return;
        }
        res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    this.url = `http://127.0.0.1:${port}/kafka`;
  }

  /** The next requests are answered with these, in order, before normal service resumes. */
  script(...answers: ScriptedAnswer[]): void {
    this.#scripted.push(...answers);
  }

  async stop(): Promise<void> {
    for (const release of this.#hanging) release();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  #answer(req: IncomingMessage, rawBody: string): ScriptedAnswer {
    const scripted = this.#scripted.shift();
    if (scripted) return scripted;
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      return { status: 401, body: JSON.stringify({ error: "Unauthorized", status: 401 }) };
    }
    if (req.method === "GET" && req.url === "/kafka/topics") {
      // The topic list (a readiness probe's request): the topics produced to, with their partitions.
      const topics = Object.fromEntries(this.records.map((record) => [record.topic, this.partitions]));
      return { status: 200, body: JSON.stringify(topics) };
    }
    if (req.method !== "POST" || req.url !== "/kafka/produce") {
      return { status: 404, body: JSON.stringify({ error: "Not Found", status: 404 }) };
    }
    const parsed = JSON.parse(rawBody) as unknown;
    const items = (Array.isArray(parsed) ? parsed : [parsed]) as Omit<StoredRecord, "partition" | "offset">[];
    const receipts = items.map((item) => {
      const partition = item.key === undefined ? 0 : hash(item.key) % this.partitions;
      const slot = `${item.topic}/${partition}`;
      const offset = this.#nextOffset.get(slot) ?? 0;
      this.#nextOffset.set(slot, offset + 1);
      this.records.push({ ...item, partition, offset });
      return { topic: item.topic, partition, offset, timestamp: Date.now() };
    });
    return { status: 200, body: JSON.stringify(receipts) };
  }
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return value;
}
