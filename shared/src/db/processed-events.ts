import type { ProcessedEvents } from "../consumers/with-dedup.ts";
import { type Database, databaseError } from "./client.ts";

/**
 * `edgebus.processed_events` as the `withDedup` ledger, for consumers whose effect is outside
 * Postgres (notifications). Consumers that write Postgres record inside their own transaction.
 */
export function postgresProcessedEvents(sql: Database): ProcessedEvents {
  return {
    async has(consumer, source, id) {
      try {
        const rows = await sql`
          select 1 from edgebus.processed_events
          where consumer = ${consumer} and source = ${source} and id = ${id}`;
        return rows.length > 0;
      } catch (thrown) {
        throw databaseError(thrown, "reading processed_events");
      }
    },
    async record(consumer, source, id) {
      try {
        await sql`
          insert into edgebus.processed_events (consumer, source, id)
          values (${consumer}, ${source}, ${id})
          on conflict do nothing`;
      } catch (thrown) {
        throw databaseError(thrown, "recording processed_events");
      }
    },
  };
}
