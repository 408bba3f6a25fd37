/**
 * README.md's quick start, as a new user follows it: `npm run dev` with nothing configured (no
 * DATABASE_URL, so the embedded Postgres; no Kafka, no Redis) serves the producer, and the curl
 * block of the quick start — the README's exact text, with the key and port put in as it tells
 * the user to — lands citizen 104233 in `permits.citizen_refs` and `revenue.citizen_refs` of the
 * embedded database. The request dev prints must be that same text.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, useDevStack } from "./dev-stack-process.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/**
 * Below Linux's ephemeral range (32768–60999), which outgoing connections take their source ports
 * from; the README's own 8787 stays free for developers.
 */
const PORTS = { port: 26797, bridgePort: 26798, providerPort: 26799, postgresPort: 26789 };
const KEY_PLACEHOLDER = "<dev API key>";
const README_PRODUCER = "127.0.0.1:8787";

/** The ```sh block of the quick start section that holds the curl, verbatim. */
function quickStartRequest(): string {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("## Quick start");
  const end = readme.indexOf("\n## ", start + 1);
  expect(start, "README.md has a Quick start section").toBeGreaterThanOrEqual(0);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? "")
    .find((text) => text.includes("curl "));
  if (block === undefined) throw new Error("README.md's quick start has no sh block with a curl");
  return block;
}

describe("README quick start: npm run dev (embedded Postgres) and its curl", () => {
  const dev = useDevStack(() => ({ ...PORTS, env: {} }));
  let sql: postgres.Sql;

  beforeAll(() => {
    sql = postgres(dev.stack.info.databaseUrl, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  it("runs on the embedded Postgres without Kafka or Redis", () => {
    expect(dev.stack.info.databaseUrl).toBe(`postgres://postgres@127.0.0.1:${PORTS.postgresPort}/postgres`);
    expect(dev.stack.info.bridge).toBeNull();
  });

  it("prints the README's request, and the README's request lands the citizen in both citizen_refs", async () => {
    const readmeBlock = quickStartRequest();
    expect(readmeBlock.split(KEY_PLACEHOLDER)).toHaveLength(2);
    expect(readmeBlock).toContain(README_PRODUCER);
    const ownStack = readmeBlock
      .replace(KEY_PLACEHOLDER, dev.stack.info.apiKey)
      .replaceAll(README_PRODUCER, new URL(dev.stack.info.producer).host);
    // What dev printed is the README's text for this stack.
    expect(dev.stack.output()).toContain(ownStack.trimEnd());

    const run = spawnSync("bash", ["-c", ownStack], {
      encoding: "utf8",
      timeout: 30_000,
      env: { PATH: process.env.PATH },
    });
    expect(run.status, run.stderr).toBe(0);
    const receipt = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(receipt).toEqual({
      id: "d53b357e-23be-4f16-87d7-f7db7fb69f15",
      type: "gov.auth.citizen.created",
      status: "accepted",
      kafka: null,
      queues: ["permits-citizen-sync", "revenue-citizen-sync", "notifications", "kafka-mirror", "archive"],
    });

    const rows = await eventually(
      "citizen 104233 in both citizen_refs",
      async () => {
        const found = await sql<{ schema: string; name: string; email: string; event_version: string }[]>`
          select 'permits' as schema, name, email, event_version from permits.citizen_refs where citizen_id = 104233
          union all
          select 'revenue', name, email, event_version from revenue.citizen_refs where citizen_id = 104233
          order by 1`;
        return found.length === 2 ? found : undefined;
      },
      { timeoutMs: 45_000 },
    );
    expect(rows.map((row) => ({ ...row, event_version: Number(row.event_version) }))).toEqual([
      { schema: "permits", name: "Amina Haddad", email: "amina.haddad@example.org", event_version: 1 },
      { schema: "revenue", name: "Amina Haddad", email: "amina.haddad@example.org", event_version: 1 },
    ]);
  }, 90_000);

  it("keeps its data folder private: the dev key's file and all the rest 0600, folders 0700", async () => {
    const readableByOthers: string[] = [];
    const walk = async (target: string): Promise<void> => {
      const stats = await lstat(target);
      if (stats.isSymbolicLink()) return;
      if ((stats.mode & 0o077) !== 0) {
        readableByOthers.push(`${(stats.mode & 0o777).toString(8)} ${path.relative(dev.stack.dataDir, target)}`);
      }
      if (stats.isDirectory()) for (const entry of await readdir(target)) await walk(path.join(target, entry));
    };
    await walk(dev.stack.dataDir);
    expect(await readdir(dev.stack.dataDir)).toContain("dev-stack.json");
    expect(readableByOthers).toEqual([]);
  });
});
