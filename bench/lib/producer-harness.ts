/**
 * What the benchmarks that run the producer Worker under wrangler's test harness
 * (`createTestHarness`) set up the same way: the process environment the harness reads, and the
 * producer's one API key.
 */
import { hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";

/**
 * Quietens wrangler (it logs every queue batch at info level: thousands of lines during a run) and
 * points the producer's Hyperdrive binding (admin API, webhook subscriptions looked up for
 * routing) at the bench database, with the password Hyperdrive wants in the URL.
 */
export function prepareHarnessEnvironment(databaseUrl: string): void {
  process.env.WRANGLER_LOG ??= "warn";
  const database = new URL(databaseUrl);
  if (!database.password) database.password = "postgres";
  process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = database.toString();
}

/** `EDGEBUS_API_KEYS` for the producer: `apiKey` for `/bench/*` sources and `gov.**` types, practically unlimited. */
export async function benchApiKeys(apiKey: string): Promise<string> {
  return JSON.stringify([
    {
      id: "bench",
      hash: await hashApiKey(apiKey),
      sources: ["/bench/*"],
      types: ["gov.**"],
      rate_limit: { requests: 1_000_000_000, window_seconds: 60 },
    },
  ]);
}
