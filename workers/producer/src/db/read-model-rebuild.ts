/**
 * Read models that an archive replay can rebuild from scratch: the queue that feeds one, its
 * table and the consumer name its dedup ledger rows carry. Rebuilding empties the table AND
 * that consumer's `edgebus.processed_events` rows in one transaction; without the second step
 * the consumer would skip every replayed event as already applied.
 */
import type { Database } from "#shared/db/client.ts";

export interface RebuildableReadModel {
  /** Schema holding `citizen_refs`. */
  readonly schema: "permits" | "revenue";
  readonly table: "citizen_refs";
  /** `processed_events.consumer` of the Worker that maintains it. */
  readonly consumer: string;
}

export const REBUILDABLE_READ_MODELS: Readonly<Record<string, RebuildableReadModel>> = {
  "permits-citizen-sync": { schema: "permits", table: "citizen_refs", consumer: "citizen-sync:permits" },
  "revenue-citizen-sync": { schema: "revenue", table: "citizen_refs", consumer: "citizen-sync:revenue" },
};

/** Empties the read model fed by `queue` and its consumer's ledger. Call inside a transaction. */
export async function resetReadModel(
  sql: Database,
  model: RebuildableReadModel,
): Promise<{ rows: number; ledgerRows: number }> {
  const rows = await sql`delete from ${sql(model.schema)}.${sql(model.table)}`;
  const ledger = await sql`delete from edgebus.processed_events where consumer = ${model.consumer}`;
  return { rows: rows.count, ledgerRows: ledger.count };
}
