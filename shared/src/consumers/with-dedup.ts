import type { Middleware } from "./handler.ts";
import { consumed } from "./outcome.ts";

/** The `edgebus.processed_events` ledger, per consumer. */
export interface ProcessedEvents {
  /** True when `(consumer, source, id)` was recorded before. */
  has(consumer: string, source: string, id: string): Promise<boolean>;
  /** Records `(consumer, source, id)`; recording twice is not an error. */
  record(consumer: string, source: string, id: string): Promise<void>;
}

export interface DedupOptions<Body> {
  readonly consumer: string;
  readonly ledger: ProcessedEvents;
  /** The duplicate key of a body (CloudEvents `source` + `id`); undefined = do not dedup. */
  readonly keyOf: (body: Body) => { source: string; id: string } | undefined;
}

/**
 * Skips events this consumer already processed and records the ones it applied.
 *
 * For effects outside Postgres (a provider call), the record is written after the effect: a
 * crash in between redelivers the event, so the effect itself must be idempotent too
 * (notifications carry an idempotency key). Consumers whose effect is a Postgres write should
 * instead record inside the same transaction (see `workers/citizen-sync/src/citizen-refs-store.ts`).
 */
export function withDedup<Body>({ consumer, ledger, keyOf }: DedupOptions<Body>): Middleware<Body> {
  return (next) =>
    async function deduplicating(message) {
      const key = keyOf(message.body);
      if (key === undefined) return next(message);
      if (await ledger.has(consumer, key.source, key.id)) return consumed("duplicate");
      const outcome = await next(message);
      if (outcome.kind === "consumed" && outcome.note !== "duplicate")
        await ledger.record(consumer, key.source, key.id);
      return outcome;
    };
}
