/**
 * Mints a producer API key and prints the `EDGEBUS_API_KEYS` entry that authorises it. The key
 * itself is shown once and never stored: only its SHA-256 hash goes into the secret.
 *
 * Usage:
 *   npx tsx scripts/api-key.ts <id> [--source <pattern>]... [--type <pattern>]... [--admin]
 *                                   [--scope notify:direct-contact|metrics] [--rate <events>/<seconds>]
 *   npx tsx scripts/api-key.ts <id> --metrics
 * Patterns are segment globs: `*` within one segment (between `/` in a source, `.` in a type), `**`
 * across segments; without --source/--type the key may publish anything (`**`).
 * `--scope notify:direct-contact`: the notifier may send to contact details carried in this key's
 * events (give it only to the service that owns the contacts, e.g. identity).
 * `--metrics`: a Prometheus scraper's key: the `metrics` scope (`GET /v1/metrics/consumers`) and
 * nothing else — no source, no type, so it can publish nothing; not with --source, --type,
 * --admin or --scope.
 *
 * Example:
 *   npx tsx scripts/api-key.ts permits-service --source '/services/permits/**' --type 'gov.permits.**'
 *
 * `npx tsx scripts/api-key.ts check [file]` reads an `EDGEBUS_API_KEYS` array (the file, else
 * stdin) and lists the patterns that are invalid or whose meaning changed when patterns became
 * segment globs (`keys-check.ts`); exit status 1 when there is any.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { governmentCatalogue } from "../schemas/index.ts";
import { type ApiKeyEntry, apiKeyEntrySchema, METRICS_SCOPE } from "../workers/producer/src/auth/api-key-config.ts";
import { generateApiKey, hashApiKey } from "../workers/producer/src/auth/key-hash.ts";
import { checkApiKeys, failures, renderKeysCheck } from "./keys-check.ts";

export async function mintApiKey(options: {
  id: string;
  sources: string[];
  types: string[];
  admin: boolean;
  scopes?: string[];
  rate?: string;
  /** A scraper's key: the `metrics` scope alone, no sources or types (it can publish nothing). */
  metricsOnly?: boolean;
}): Promise<{ key: string; entry: ApiKeyEntry }> {
  if (options.metricsOnly) {
    if (options.sources.length > 0 || options.types.length > 0 || options.admin || (options.scopes ?? []).length > 0)
      throw new Error(
        "--metrics mints a key that may only read metrics: leave out --source, --type, --admin and --scope",
      );
    const key = generateApiKey();
    const entry = apiKeyEntrySchema.parse({
      id: options.id,
      hash: await hashApiKey(key),
      sources: [],
      types: [],
      scopes: [METRICS_SCOPE],
    });
    return { key, entry };
  }
  const key = generateApiKey();
  let rateLimit: ApiKeyEntry["rate_limit"];
  if (options.rate !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(options.rate);
    if (match === null) throw new Error(`--rate must look like 1000/60 (events per seconds), got ${options.rate}`);
    rateLimit = { requests: Number(match[1]), window_seconds: Number(match[2]) };
  }
  const entry = apiKeyEntrySchema.parse({
    id: options.id,
    hash: await hashApiKey(key),
    sources: options.sources.length > 0 ? options.sources : ["**"],
    types: options.types.length > 0 ? options.types : ["**"],
    admin: options.admin,
    scopes: options.scopes ?? [],
    ...(rateLimit === undefined ? {} : { rate_limit: rateLimit }),
  });
  return { key, entry };
}

/** `check [file]`: the `EDGEBUS_API_KEYS` array from the file, else stdin; exit 1 when a pattern needs fixing. */
async function check(file: string | undefined): Promise<number> {
  let text: string;
  if (file !== undefined && file !== "-") text = await readFile(file, "utf8");
  else if (process.stdin.isTTY) {
    console.error("usage: npx tsx scripts/api-key.ts check [keys.json]   (or the JSON array on stdin)");
    return 2;
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
  }
  const result = checkApiKeys(JSON.parse(text), governmentCatalogue.types());
  console.log(renderKeysCheck(result));
  return failures(result).length === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  if (process.argv[2] === "check") {
    process.exitCode = await check(process.argv[3]);
    return;
  }
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      source: { type: "string", multiple: true, default: [] },
      type: { type: "string", multiple: true, default: [] },
      admin: { type: "boolean", default: false },
      scope: { type: "string", multiple: true, default: [] },
      metrics: { type: "boolean", default: false },
      rate: { type: "string" },
    },
  });
  const [id] = positionals;
  if (id === undefined) {
    console.error(
      "usage: npx tsx scripts/api-key.ts <id> [--source p]... [--type p]... [--admin] [--scope notify:direct-contact|metrics] [--rate n/s]\n       npx tsx scripts/api-key.ts <id> --metrics   (a scraper's key: reads /v1/metrics/consumers, publishes nothing)",
    );
    process.exit(2);
  }
  const { key, entry } = await mintApiKey({
    id,
    sources: values.source,
    types: values.type,
    admin: values.admin,
    scopes: values.scope,
    metricsOnly: values.metrics,
    ...(values.rate === undefined ? {} : { rate: values.rate }),
  });
  console.log(`API key (give to the client; shown only now):\n  ${key}\n`);
  console.log(
    `EDGEBUS_API_KEYS entry (add to the JSON array; wrangler secret put EDGEBUS_API_KEYS):\n  ${JSON.stringify(entry)}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
