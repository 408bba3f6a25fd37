/**
 * Applies the numbered SQL files in `migrations/` (`NNNN_description.sql`) to `DATABASE_URL`.
 *
 * - pending files run in version order, each in its own transaction together with its row in
 *   `public.schema_migrations (version, name, checksum, applied_at)`;
 * - a transaction-scoped advisory lock serialises concurrent runners: the second waits, then
 *   sees the migration applied and moves on;
 * - an applied file whose sha256 changed stops the run with an error naming the file
 *   (migrations are never edited once landed: add a new one);
 * - running again with nothing pending changes nothing.
 *
 * Usage: `npm run migrate` (reads DATABASE_URL). Tests and the dev stack call `migrate(sql)`.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { z } from "zod";

export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL("../migrations/", import.meta.url));

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** Arbitrary constant shared by every edgebus migrate run ("edgebus" in ASCII). */
const ADVISORY_LOCK_KEY = 0x656467656275;

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly file: string;
  readonly checksum: string;
  readonly sql: string;
}

export interface MigrateOptions {
  readonly log?: (line: string) => void;
  readonly directory?: string;
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

export async function readMigrations(directory: string = MIGRATIONS_DIRECTORY): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith(".sql")).sort();
  const files: MigrationFile[] = [];
  for (const file of names) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} is not named NNNN_description.sql`);
    const sql = await readFile(`${directory}/${file}`, "utf8");
    const version = Number(match[1]);
    if (files.some((f) => f.version === version))
      throw new MigrationError(`two migration files have version ${match[1]} (${file})`);
    files.push({
      version,
      name: match[2] as string,
      file,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  return files;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

export async function migrate(sql: postgres.Sql, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const files = await readMigrations(options.directory);
  // Under the same lock as the migrations: two runners creating the table at once would otherwise
  // race inside Postgres, and the loser fails with a unique violation, "relation already exists"
  // or "type already exists" depending on how far the winner got.
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`;
    await tx`
      create table if not exists public.schema_migrations (
        version    integer primary key,
        name       text not null,
        checksum   text not null,
        applied_at timestamptz not null default now()
      )`;
  });

  const applied: string[] = [];
  let alreadyApplied = 0;
  for (const migration of files) {
    const done = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`;
      const rows = await tx<AppliedRow[]>`select version, name, checksum from public.schema_migrations`;
      verifyApplied(files, rows);
      if (rows.some((row) => row.version === migration.version)) return false;
      await tx.unsafe(migration.sql).simple();
      await tx`
        insert into public.schema_migrations (version, name, checksum)
        values (${migration.version}, ${migration.name}, ${migration.checksum})`;
      return true;
    });
    if (done) {
      applied.push(migration.file);
      log(`applied ${migration.file}`);
    } else alreadyApplied++;
  }
  log(
    applied.length === 0
      ? `database is up to date (${alreadyApplied} migrations applied before)`
      : `applied ${applied.length} migration(s); ${alreadyApplied} were applied before`,
  );
  return { applied, alreadyApplied };
}

function verifyApplied(files: readonly MigrationFile[], rows: readonly AppliedRow[]): void {
  for (const row of rows) {
    const file = files.find((f) => f.version === row.version);
    if (file === undefined) continue; // applied by a newer checkout; not ours to judge
    if (file.checksum !== row.checksum)
      throw new MigrationError(
        `migration ${file.file} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ` +
          `${file.checksum.slice(0, 12)}… on disk); migrations are never edited once landed — add a new file instead`,
      );
  }
}

const envSchema = z.object({ DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }) });

async function main(): Promise<void> {
  const env = envSchema.safeParse(process.env);
  if (!env.success) {
    console.error("migrate: DATABASE_URL must be a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/edgebus");
    process.exit(2);
  }
  const sql = postgres(env.data.DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql, { log: (line) => console.log(`migrate: ${line}`) });
  } catch (error) {
    console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
