/**
 * Where the test suites find the real servers they talk to, and what happens when one is
 * missing: locally the suite is skipped with a message naming the server and how to start it;
 * with `CI=true` a missing server fails the run (CI must never pass by skipping).
 *
 * Runs in Node (globalSetup, Node projects). Workerd projects receive the URLs through
 * `provide()`/`inject()` from their globalSetup.
 */
import { canConnect } from "../../scripts/service-probe.ts";

export { canConnect };

export const isCI = process.env.CI === "true" || process.env.CI === "1";

export const serviceUrls = {
  /** Postgres for tests; the database is created by `.ci/run` / `scripts/test.mjs`. */
  postgres: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/edgebus_test",
  redis: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim()),
};

export const serviceHints: Record<string, string> = {
  postgres: "start PostgreSQL and set DATABASE_URL (or run `npm test`, which falls back to embedded Postgres)",
  redis: "start Redis (redis-server) or set REDIS_URL",
  kafka: "run `npm run kafka -- start` (needs Java 17+) or set KAFKA_BROKERS",
};

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || "127.0.0.1", port: Number(parsed.port || defaultPort) };
}

export async function serviceAvailable(name: "postgres" | "redis" | "kafka"): Promise<boolean> {
  if (name === "postgres") {
    const { host, port } = hostPort(serviceUrls.postgres, 5432);
    return canConnect(host, port);
  }
  if (name === "redis") {
    const { host, port } = hostPort(serviceUrls.redis, 6379);
    return canConnect(host, port);
  }
  const [first = "127.0.0.1:9092"] = serviceUrls.kafkaBrokers;
  const { host, port } = hostPort(`tcp://${first}`, 9092);
  return canConnect(host, port);
}

/**
 * Call at the top of a suite (or in globalSetup). Returns true when the suite can run.
 * Missing server: throws under CI, otherwise prints why the suite is skipped and returns false.
 */
export async function requireService(name: "postgres" | "redis" | "kafka", suite: string): Promise<boolean> {
  if (await serviceAvailable(name)) return true;
  const message = `${suite}: ${name} is not reachable — ${serviceHints[name]}`;
  if (isCI) throw new Error(`${message} (CI=true: a missing server fails the run)`);
  console.warn(`SKIPPED ${message}`);
  return false;
}
