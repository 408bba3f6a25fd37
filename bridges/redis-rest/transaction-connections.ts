import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";

/**
 * Dedicated connections for `MULTI … EXEC`. A transaction must not share a connection with the
 * multiplexed single/pipeline traffic (their commands would land inside it), so each transaction
 * borrows a connection of its own. Idle connections are kept up to `maxIdle` to spare the
 * connect round trip; a connection that saw a transport error is discarded, never reused.
 */
export class TransactionConnections {
  readonly #source: Redis;
  readonly #maxIdle: number;
  readonly #idle: Redis[] = [];
  readonly #borrowed = new Set<Redis>();
  #closed = false;

  constructor(source: Redis, maxIdle = 4) {
    this.#source = source;
    this.#maxIdle = maxIdle;
  }

  acquire(): Redis {
    // Closed when the gateway's Redis connection ended for good: the gateway cannot serve anymore.
    if (this.#closed) {
      throw new EdgebusError("upstream_unavailable", "ERR redis is unavailable: the gateway's connection has ended");
    }
    const connection = this.#idle.pop() ?? this.#connect();
    this.#borrowed.add(connection);
    return connection;
  }

  #connect(): Redis {
    const connection = this.#source.duplicate();
    // Transport errors reach the transaction as rejected commands (→ 503, connection discarded);
    // without a listener ioredis would also print each one as an unhandled error event.
    connection.on("error", () => undefined);
    return connection;
  }

  /** Returns a connection whose transaction ended normally (EXEC answered, even with EXECABORT). */
  release(connection: Redis): void {
    this.#borrowed.delete(connection);
    if (!this.#closed && this.#idle.length < this.#maxIdle && connection.status === "ready") {
      this.#idle.push(connection);
    } else {
      connection.disconnect();
    }
  }

  /** Drops a connection whose state is unknown (transport error mid-transaction). */
  discard(connection: Redis): void {
    this.#borrowed.delete(connection);
    connection.disconnect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#idle.splice(0), ...this.#borrowed];
    this.#borrowed.clear();
    await Promise.all(all.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }
}
