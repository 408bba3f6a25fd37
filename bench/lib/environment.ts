/**
 * What a result was measured on: the machine (CPU model, cores, memory, OS, load average) and
 * the versions of everything in the path (Node, wrangler/workerd, the Postgres server, Kafka,
 * Redis). A server that cannot be reached is reported as `unreachable`, not guessed.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import postgres from "postgres";

/** The benchmarks' database when `DATABASE_URL` is not set (created and migrated if missing). */
export const DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/edgebus_bench";

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  os: string;
  /** 1-minute load average when the benchmark started: above `cores`, others were using the CPU. */
  load_average_1m: number;
}

export function describeMachine(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.cpus().length,
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load_average_1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** The installed version of a package from this checkout's node_modules. */
export function packageVersion(name: string): string {
  const file = fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url));
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** The Kafka version scripts/kafka.sh runs (the broker does not report its release over the wire). */
export function kafkaVersion(): string {
  if (process.env.EDGEBUS_KAFKA_VERSION) return process.env.EDGEBUS_KAFKA_VERSION;
  const script = readFileSync(fileURLToPath(new URL("../../scripts/kafka.sh", import.meta.url)), "utf8");
  return /EDGEBUS_KAFKA_VERSION:-([0-9.]+)/.exec(script)?.[1] ?? "unknown";
}

export async function postgresVersion(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    return row?.server_version ?? "unknown";
  } catch {
    return "unreachable";
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function redisVersion(redisUrl: string): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const info = await redis.info("server");
    return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
  } catch {
    return "unreachable";
  } finally {
    redis.disconnect();
  }
}

export interface Versions {
  node: string;
  wrangler: string;
  workerd: string;
  hono: string;
  postgres_server: string;
  kafka: string;
  redis: string;
  [name: string]: string;
}

export async function collectVersions(services: { databaseUrl: string; redisUrl: string }): Promise<Versions> {
  return {
    node: process.version,
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    hono: packageVersion("hono"),
    postgres_server: await postgresVersion(services.databaseUrl),
    kafka: kafkaVersion(),
    redis: await redisVersion(services.redisUrl),
  };
}
