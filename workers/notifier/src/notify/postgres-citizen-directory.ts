import { type Database, databaseError } from "#shared/db/client.ts";
import type { CitizenContact, CitizenDirectory } from "./recipient.ts";
import type { DirectoryName } from "./subscription.ts";

/**
 * `CitizenDirectory` over the `citizen_refs` read models (`permits.citizen_refs`,
 * `revenue.citizen_refs`). A deleted citizen is a tombstone there and is treated as unknown:
 * nobody is written to after their account was deleted.
 */
export class PostgresCitizenDirectory implements CitizenDirectory {
  readonly #sql: Database;

  constructor(sql: Database) {
    this.#sql = sql;
  }

  async find(directory: DirectoryName, citizenId: number): Promise<CitizenContact | undefined> {
    // The schema name comes from a closed union, never from event data.
    const table = this.#sql(directory === "revenue" ? "revenue" : "permits");
    try {
      const [row] = await this.#sql<
        { name: string | null; email: string | null; phone: string | null; preferred_language: string | null }[]
      >`select name, email, phone, preferred_language from ${table}.citizen_refs
        where citizen_id = ${citizenId} and deleted_at is null`;
      if (!row) return undefined;
      return { name: row.name, email: row.email, phone: row.phone, preferredLanguage: row.preferred_language };
    } catch (thrown) {
      throw databaseError(thrown, `looking up the citizen in ${directory}.citizen_refs`);
    }
  }
}
