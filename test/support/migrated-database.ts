/**
 * Test support for suites that talk to the real Postgres (Node side): the database named by
 * DATABASE_URL, migrated. Suites share one database, so they use random citizen ids / event ids
 * and never truncate.
 */
import postgres from "postgres";
import { migrate } from "../../scripts/migrate.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "./services.ts";

export async function migratedTestDatabase(suite: string): Promise<postgres.Sql | undefined> {
  if (!(await requireService("postgres", suite))) return undefined;
  const sql = postgres(serviceUrls.postgres, { max: 5, onnotice: () => {} });
  await migrate(sql);
  return sql;
}

/** A citizen id no other test run will pick (safe-integer range, like the catalogue's). */
export function randomCitizenId(): number {
  return 1_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000);
}
