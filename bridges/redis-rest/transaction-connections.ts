import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { duplicateWithTimeout } from "./command-deadline.ts";

export interface TransactionConnectionLimits {
  /** Connections open at once for transactions, idle ones included (`redisRest.maxTransactionConnections`). */
  readonly max: number;
  /** Idle connections kept for the next transactions (at most `max`). */
  readonly maxIdle: number;
}

/**
 * Dedicated connections for `MULTI … EXEC`. A transaction must not share a connection with the
 * multiplexed single/pipeline traffic (their commands would land inside it), so each transaction
 * borrows a connection of its own — from a bounded pool: at most `max` connections exist at once,
 * and a transaction arriving while all are borrowed is refused at once with 503 and
 * `Retry-After: 1` (no queue to grow). Idle connections are kept up to `maxIdle` to spare the
 * connect round trip; a connection that saw a transport error is discarded, never reused.
 */
export class TransactionConnections {
  readonly #source: Redis;
  readonly #limits: TransactionConnectionLimits;
  readonly #idle: Redis[] = [];
  readonly #borrowed = new Set<Redis>();
  #closed = false;

  constructor(source: Redis, limits: Partial<TransactionConnectionLimits> = {}) {
    this.#source = source;
    const max = limits.max ?? 16;
    this.#limits = { max, maxIdle: Math.min(limits.maxIdle ?? 4, max) };
  }

  acquire(): Redis {
    // Closed when the gateway's Redis connection ended for good: the gateway cannot serve anymore.
    if (this.#closed) {
      throw new EdgebusError("upstream_unavailable", "ERR redis is unavailable: the gateway's connection has ended");
    }
    const idle = this.#idle.pop();
    if (idle === undefined && this.#borrowed.size >= this.#limits.max) {
      throw new EdgebusError(
        "upstream_unavailable",
        `ERR too many concurrent transactions: all ${this.#limits.max} transaction connections are busy; retry shortly`,
        { retryAfterSeconds: 1 },
      );
    }
    const connection = idle ?? this.#connect();
    this.#borrowed.add(connection);
    return connection;
  }

  /** Connections open now (borrowed and idle). */
  get size(): number {
    return this.#borrowed.size + this.#idle.length;
  }

  #connect(): Redis {
    const connection = duplicateWithTimeout(this.#source);
    // Transport errors reach the transaction as rejected commands (→ 503, connection discarded);
    // without a listener ioredis would also print each one as an unhandled error event.
    connection.on("error", () => undefined);
    return connection;
  }

  /** Returns a connection whose transaction ended normally (EXEC answered, even with EXECABORT). */
  release(connection: Redis): void {
    this.#borrowed.delete(connection);
    if (!this.#closed && this.#idle.length < this.#limits.maxIdle && connection.status === "ready") {
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
