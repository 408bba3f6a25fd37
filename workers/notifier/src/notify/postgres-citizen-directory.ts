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

  constructor(sql: Database) {
    this.#sql = sql;
  }

  async find(directory: DirectoryName, citizenId: number): Promise<DirectoryEntry> {
    // The schema name comes from a closed union, never from event data.
    const table = this.#sql(directory === "revenue" ? "revenue" : "permits");
    try {
      const [row] = await this.#sql<
        {
          name: string | null;
          email: string | null;
          phone: string | null;
          preferred_language: string | null;
          deleted: boolean;
        }[]
      >`select name, email, phone, preferred_language, deleted_at is not null as deleted from ${table}.citizen_refs
        where citizen_id = ${citizenId}`;
      if (!row) return { state: "unknown" };
      if (row.deleted) return { state: "deleted" };
      return {
        state: "known",
        contact: { name: row.name, email: row.email, phone: row.phone, preferredLanguage: row.preferred_language },
      };
    } catch (thrown) {
      throw databaseError(thrown, `looking up the citizen in ${directory}.citizen_refs`);
    }
  }
}
