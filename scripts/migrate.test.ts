import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireService } from "../test/support/services.ts";
import { MIGRATIONS_DIRECTORY, migrate, readMigrations } from "./migrate.ts";
import { isCI, serviceUrls } from "./service-probe.ts";

/** A throwaway database per run, so migrations start from nothing and nobody else is touched. */
const databaseName = `edgebus_migrate_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
const adminUrl = serviceUrls.postgres;
const testUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
})();

/**
 * Creates the throwaway database and checks a connection to it really lands there: the embedded
 * PGlite server (scripts/embedded-postgres.ts) has one database for every name, and these tests
 * must not write test migrations into a database other suites use.
 */
async function throwawayDatabase(): Promise<boolean> {
  if (!(await requireService("postgres", "scripts/migrate"))) return false;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const probe = postgres(testUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${databaseName}`);
    const [row] = await probe<{ name: string }[]>`select current_database() as name`;
    if (row?.name === databaseName) return true;
    const message =
      "scripts/migrate: the server has a single database (embedded PGlite?); migration tests need a real server";
    if (isCI) throw new Error(message);
    console.warn(`SKIPPED ${message}`);
    return false;
  } finally {
    await probe.end({ timeout: 5 });
    await admin.end({ timeout: 5 });
  }
}

const isolated = await throwawayDatabase();

describe.skipIf(!isolated)("migrate (real Postgres, throwaway database)", () => {
  let admin: postgres.Sql;
  const clients: postgres.Sql[] = [];
  const connect = () => {
    const sql = postgres(testUrl, { max: 2, onnotice: () => {} });
    clients.push(sql);
    return sql;
  };

  beforeAll(() => {
    admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
    await admin.end({ timeout: 5 });
  });

  it("applies every migration once, even with two runners racing", async () => {
    const files = await readMigrations();
    const lines: string[] = [];
    const [a, b] = await Promise.all([migrate(connect(), { log: (l) => lines.push(l) }), migrate(connect())]);
    expect([...a.applied, ...b.applied].sort()).toEqual(files.map((f) => f.file));
    expect(a.applied.length + a.alreadyApplied).toBe(files.length);

    const sql = connect();
    const rows = await sql<{ version: number; checksum: string }[]>`
      select version, checksum from public.schema_migrations order by version`;
    expect(rows.map((r) => [r.version, r.checksum])).toEqual(files.map((f) => [f.version, f.checksum]));
    const tables = await sql<{ name: string }[]>`
      select table_schema || '.' || table_name as name from information_schema.tables
      where table_schema in ('permits', 'revenue', 'edgebus') order by 1`;
    expect(tables.map((t) => t.name)).toEqual([
      "edgebus.consumer_metrics",
      "edgebus.dead_letters",
      "edgebus.event_archive",
      "edgebus.notifications",
      "edgebus.processed_events",
      "edgebus.push_subscriptions",
      "edgebus.replay_jobs",
      "edgebus.webhook_attempts",
      "edgebus.webhook_deliveries",
      "edgebus.webhook_subscriptions",
      "permits.citizen_refs",
      "revenue.citizen_refs",
    ]);
    expect(lines.some((l) => l.startsWith("applied 0001_schemas.sql")) || b.applied.includes("0001_schemas.sql")).toBe(
      true,
    );
  });

  it("is idempotent: a second run applies nothing", async () => {
    const result = await migrate(connect());
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe((await readMigrations()).length);
  });

  it("refuses to run when an applied file changed, naming the file", async () => {
    const directory = await mkdtemp(join(tmpdir(), "edgebus-migrations-"));
    try {
      await cp(MIGRATIONS_DIRECTORY, directory, { recursive: true });
      await writeFile(join(directory, "0003_processed_events.sql"), "-- edited after landing\nselect 1;\n");
      await expect(migrate(connect(), { directory })).rejects.toThrow(/0003_processed_events\.sql was changed/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("applies a new file after the existing ones and rolls back a failing one completely", async () => {
    const directory = await mkdtemp(join(tmpdir(), "edgebus-migrations-"));
    try {
      await cp(MIGRATIONS_DIRECTORY, directory, { recursive: true });
      await writeFile(
        join(directory, "9998_good.sql"),
        "create table edgebus.migrate_probe (id int);\ninsert into edgebus.migrate_probe values (1);\n",
      );
      await writeFile(
        join(directory, "9999_broken.sql"),
        "create table edgebus.half_done (id int);\nselect * from no_such_table;\n",
      );
      await expect(migrate(connect(), { directory })).rejects.toThrow(/no_such_table/);
      const sql = connect();
      const versions = await sql<
        { version: number }[]
      >`select version from public.schema_migrations where version > 9000`;
      expect(versions.map((v) => v.version)).toEqual([9998]);
      const [{ exists } = { exists: true }] = await sql<{ exists: boolean }[]>`
        select to_regclass('edgebus.half_done') is not null as exists`;
      expect(exists).toBe(false);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("creates its ledger table once however many runners start together", async () => {
    // CI once lost this race with two runners ("type schema_migrations already exists"): the
    // table's creation now takes the migrations' lock. Eight runners, forty fresh starts (the old code lost about one run in two).
    const directory = await mkdtemp(join(tmpdir(), "edgebus-migrations-"));
    const url = new URL(testUrl);
    url.pathname = `/${databaseName}_ledger`;
    await admin.unsafe(`create database ${databaseName}_ledger`);
    const runners = Array.from({ length: 8 }, () => {
      const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
      clients.push(sql);
      return sql;
    });
    try {
      for (let start = 0; start < 40; start++) {
        await runners[0]?.unsafe("drop table if exists public.schema_migrations");
        const results = await Promise.allSettled(runners.map((sql) => migrate(sql, { directory })));
        expect(results.filter((result) => result.status === "rejected")).toEqual([]);
      }
    } finally {
      await Promise.all(runners.map((sql) => sql.end({ timeout: 5 })));
      await admin.unsafe(`drop database if exists ${databaseName}_ledger with (force)`);
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("rejects badly named files", async () => {
    const directory = await mkdtemp(join(tmpdir(), "edgebus-migrations-"));
    try {
      await writeFile(join(directory, "1_missing_padding.sql"), "select 1;");
      await expect(readMigrations(directory)).rejects.toThrow(/1_missing_padding\.sql is not named/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
