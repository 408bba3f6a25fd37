import { type Database, databaseError } from "#shared/db/client.ts";
import type { DirectoryName } from "./notification-rule.ts";
import type { CitizenDirectory, DirectoryEntry } from "./recipient.ts";

/**
 * `CitizenDirectory` over the `citizen_refs` read models (`permits.citizen_refs`,
 * `revenue.citizen_refs`). A deleted citizen is a tombstone there (`deleted`, no contact): nobody
 * is written to after their account was deleted. No row at all is `unknown`: citizen-sync has not
 * applied the citizen's `created` event yet.
 */
export class PostgresCitizenDirectory implements CitizenDirectory {
  readonly #sql: Database;

  /** Entries read ahead by `prefetch` (this client lives for one batch: a snapshot as of its start). */
  readonly #known = new Map<string, DirectoryEntry>();

  constructor(sql: Database) {
    this.#sql = sql;
  }

  /**
   * Reads the entries of many citizens in one query, so a batch's `find`s cost no round trip each;
   * citizens without a row are remembered as `unknown`.
   */
  async prefetch(directory: DirectoryName, citizenIds: readonly number[]): Promise<void> {
    const ids = [...new Set(citizenIds)].filter((id) => !this.#known.has(`${directory}:${id}`));
    if (ids.length === 0) return;
    const table = this.#sql(directory === "revenue" ? "revenue" : "permits");
    try {
      // The ids travel as JSON text: clients without fetched types (`fetch_types: false`) cannot
      // send a JS array as a Postgres array (Postgres refused the bare "1,2,3" with 22P02).
      const rows = await this.#sql<(ContactRow & { citizen_id: string })[]>`
        select citizen_id::text, name, email, phone, preferred_language, deleted_at is not null as deleted
        from ${table}.citizen_refs
        where citizen_id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::text::jsonb)::bigint)`;
      for (const id of ids) this.#known.set(`${directory}:${id}`, { state: "unknown" });
      for (const row of rows) this.#known.set(`${directory}:${row.citizen_id}`, entryOf(row));
    } catch (thrown) {
      throw databaseError(thrown, `looking up citizens in ${directory}.citizen_refs`);
    }
  }

  async find(directory: DirectoryName, citizenId: number): Promise<DirectoryEntry> {
    const prefetched = this.#known.get(`${directory}:${citizenId}`);
    if (prefetched !== undefined) return prefetched;
    // The schema name comes from a closed union, never from event data.
    const table = this.#sql(directory === "revenue" ? "revenue" : "permits");
    try {
      const [row] = await this.#sql<ContactRow[]>`
        select name, email, phone, preferred_language, deleted_at is not null as deleted from ${table}.citizen_refs
        where citizen_id = ${citizenId}`;
      return row ? entryOf(row) : { state: "unknown" };
    } catch (thrown) {
      throw databaseError(thrown, `looking up the citizen in ${directory}.citizen_refs`);
    }
  }
}

interface ContactRow {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly preferred_language: string | null;
  readonly deleted: boolean;
}

function entryOf(row: ContactRow): DirectoryEntry {
  if (row.deleted) return { state: "deleted" };
  return {
    state: "known",
    contact: { name: row.name, email: row.email, phone: row.phone, preferredLanguage: row.preferred_language },
  };
}
