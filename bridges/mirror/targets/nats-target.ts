import { createHash } from "node:crypto";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, nanos, headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields, withoutCredentials } from "#shared/log.ts";
import { topicForType } from "#shared/names.ts";
import { withDeadline } from "../../deadline.ts";
import type { BindingMode } from "../cloud-event-binding.ts";
import type { TopicMapping } from "../topic-mapping.ts";
import { toNatsMessage } from "./bindings.ts";
import {
  type DeliveryOutcome,
  destinationType,
  type MirrorDelivery,
  type MirrorTarget,
  unavailable,
} from "./mirror-target.ts";

const log = createLogger({ component: "mirror-nats" });

export interface NatsStreamSettings {
  /** Stream name (`EDGEBUS`). */
  readonly name: string;
  /** Subjects the stream captures (`edgebus.>`); the target's subjects must fall inside them. */
  readonly subjects: readonly string[];
  readonly retention: "limits" | "interest" | "workqueue";
  /** 0 = keep until other limits remove them. */
  readonly maxAgeSeconds: number;
  readonly replicas: number;
  /** How long JetStream remembers a `Nats-Msg-Id`: a redelivery inside it stores nothing. */
  readonly duplicateWindowSeconds: number;
}

export interface NatsTargetOptions {
  readonly name?: string;
  /** `nats://host:4222` (credentials in the URL: `nats://user:password@host:4222`); several comma-separated. */
  readonly url: string;
  readonly mode: BindingMode;
  readonly mapping: TopicMapping;
  /** Prefix of every subject: `edgebus.` + type. */
  readonly subjectPrefix: string;
  readonly stream: NatsStreamSettings;
  /** Longest wait for a `PubAck`. */
  readonly timeoutMs: number;
}

/**
 * Mirror into NATS JetStream with the official `@nats-io/*` client: subject `edgebus.` + type
 * (topic part renamed by the mapping), the CloudEvents NATS binding (`bindings.ts`: `ce-*` headers
 * or structured), `Nats-Msg-Id` = SHA-256 of `source` and `id`, so a redelivered event inside the
 * stream's duplicate window is answered `duplicate` and stored once. `ok` only after the `PubAck`.
 *
 * The stream is created, or updated to the configured retention, max age, replicas and
 * duplicate window, at the first connect (and again after a publish finds no stream). A batch's
 * publishes go out on one connection in input order, so each subject keeps its order.
 * The client reconnects forever by itself; while the server is away, publishes fail after
 * `timeoutMs` (retryable) and the Worker retries the batch.
 */
export class NatsTarget implements MirrorTarget {
  readonly kind = "nats" as const;
  readonly name: string;
  readonly mapping: TopicMapping;
  readonly #options: NatsTargetOptions;
  readonly #connecting: Promise<NatsConnection>;
  #connection: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #streamReady: Promise<void> | undefined;
  #connected = false;
  #closing = false;

  constructor(options: NatsTargetOptions) {
    this.name = options.name ?? "nats";
    this.mapping = options.mapping;
    this.#options = options;
    this.#connecting = this.#connect();
    // A start before the server is up keeps trying; a failure is reported by deliver/probe.
    this.#connecting.catch(() => undefined);
  }

  async #connect(): Promise<NatsConnection> {
    const url = new URL(this.#options.url.split(",")[0]?.trim() ?? "");
    const nc = await connect({
      servers: this.#options.url.split(",").map((s) => withoutCredentials(s.trim())),
      ...(url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : {}),
      name: "edgebus-bridge mirror",
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      timeout: this.#options.timeoutMs,
    });
    this.#connection = nc;
    this.#js = jetstream(nc, { timeout: this.#options.timeoutMs });
    this.#connected = true;
    void this.#watch(nc);
    return nc;
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        if (!this.#closing) log.log("warn", "NATS connection lost; reconnecting", { destination: this.name });
      } else if (status.type === "reconnect") {
        this.#connected = true;
        log.log("info", "NATS connection back", { destination: this.name });
      }
    }
  }

  /** Creates the stream, or brings an existing one to the configured settings. */
  async #ensureStream(nc: NatsConnection): Promise<void> {
    const jsm: JetStreamManager = await jetstreamManager(nc, { timeout: this.#options.timeoutMs });
    const s = this.#options.stream;
    const settings = {
      subjects: [...s.subjects],
      retention: s.retention,
      max_age: nanos(s.maxAgeSeconds * 1000),
      num_replicas: s.replicas,
      duplicate_window: nanos(s.duplicateWindowSeconds * 1000),
    };
    try {
      await jsm.streams.info(s.name);
      await jsm.streams.update(s.name, settings);
    } catch (error) {
      if (!/not found/i.test((error as Error).message)) throw error;
      await jsm.streams.add({ name: s.name, storage: "file", ...settings } as Parameters<typeof jsm.streams.add>[0]);
      log.log("info", "JetStream stream created", { destination: this.name, note: s.name });
    }
  }

  #stream(nc: NatsConnection): Promise<void> {
    if (!this.#streamReady) {
      this.#streamReady = this.#ensureStream(nc).catch((error: unknown) => {
        this.#streamReady = undefined;
        throw error;
      });
    }
    return this.#streamReady;
  }

  get saturated(): boolean {
    return false;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async deliver(deliveries: readonly MirrorDelivery[]): Promise<DeliveryOutcome[]> {
    let nc: NatsConnection;
    try {
      nc = await withTimeout(this.#connecting, this.#options.timeoutMs, "not connected");
      await this.#stream(nc);
    } catch (error) {
      const failure = unavailable(this.name, `JetStream not ready: ${(error as Error).message}`, error);
      return deliveries.map(() => ({ ok: false as const, error: failure }));
    }
    const js = this.#js as JetStreamClient;
    const maxPayload = nc.info?.max_payload ?? 1_048_576;
    // All published before any PubAck is awaited: one connection keeps them in this order.
    const pending = deliveries.map(async ({ event, topic }): Promise<DeliveryOutcome> => {
      const subject = `${this.#options.subjectPrefix}${destinationType(event, topicForType(event.type), topic)}`;
      const invalid = subjectProblem(subject);
      if (invalid) {
        return {
          ok: false,
          error: new EdgebusError("invalid_envelope", `mirror target ${this.name}: subject "${subject}" ${invalid}`),
        };
      }
      const message = toNatsMessage(event, this.#options.mode);
      const h = natsHeaders();
      let headerBytes = 0;
      for (const [name, value] of message.headers) {
        h.append(name, value);
        headerBytes += name.length + value.length + 4;
      }
      if (message.body.byteLength + headerBytes > maxPayload) {
        return {
          ok: false,
          error: new EdgebusError(
            "payload_too_large",
            `mirror target ${this.name}: the message is ${message.body.byteLength + headerBytes} bytes, over the NATS server's max_payload ${maxPayload}`,
          ),
        };
      }
      try {
        const ack = await js.publish(subject, message.body, {
          msgID: messageId(event.source, event.id),
          headers: h,
          timeout: this.#options.timeoutMs,
        });
        return { ok: true, duplicate: ack.duplicate, receipt: { topic: subject, offset: ack.seq } };
      } catch (error) {
        const text = (error as Error).message;
        // The stream was deleted behind our back (or the server lost its state): create it again next time.
        if (/no responders|stream not found/i.test(text)) this.#streamReady = undefined;
        return { ok: false, error: unavailable(this.name, `no PubAck: ${text}`, error) };
      }
    });
    return Promise.all(pending);
  }

  async probe(): Promise<void> {
    const nc = this.#connection;
    if (!nc || !this.#connected) throw new Error(`not connected to ${withoutCredentials(this.#options.url)}`);
    await nc.rtt();
  }

  async close(): Promise<void> {
    this.#closing = true;
    const nc = this.#connection;
    if (nc) await nc.drain().catch((error: unknown) => log.log("warn", "NATS drain failed", errorLogFields(error)));
    else {
      // Still waiting for a first connection: stop it.
      this.#connecting.then((late) => late.close()).catch(() => undefined);
    }
  }
}

/** `Nats-Msg-Id`: stable for one event (its `source` and `id`), printable, fixed length. */
export function messageId(source: string, id: string): string {
  return createHash("sha256").update(source).update("\u0000").update(id).digest("hex");
}

/** Why a subject cannot be published to (tokens: non-empty, no whitespace, no wildcards), or undefined. */
export function subjectProblem(subject: string): string | undefined {
  if (/\s/.test(subject)) return "contains whitespace";
  const tokens = subject.split(".");
  if (tokens.some((t) => t === "")) return "has an empty token";
  if (tokens.some((t) => t === "*" || t === ">")) return "contains a wildcard token";
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(promise, ms, () => new Error(`${what} within ${ms} ms`));
}
