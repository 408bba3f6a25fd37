/**
 * Where the local servers are (Postgres, Redis, Kafka) and whether they answer: used by
 * `npm run dev` (to find what it can use), by `npm test`'s runner (to report what is missing up
 * front) and by the suites themselves (through test/support/services.ts).
 *
 * Node only. Plain enough for Node's type stripping: scripts/test.mjs imports it without a build.
 */
import net from "node:net";

export const isCI = process.env.CI === "true" || process.env.CI === "1";

export const serviceUrls = {
  /** Postgres for tests; the database is created by `.ci/run` / `scripts/test.mjs`. */
  postgres: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/edgebus_test",
  redis: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim()),
  /** The mirror targets' contract suite (bridges/mirror/targets). */
  rabbitmq: process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672",
  nats: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
};

export const serviceHints: Record<string, string> = {
  postgres: "start PostgreSQL and set DATABASE_URL (or run `npm test`, which falls back to embedded Postgres)",
  redis: "start Redis (redis-server) or set REDIS_URL",
  kafka: "run `npm run kafka -- start` (needs Java 17+) or set KAFKA_BROKERS",
  rabbitmq: "start RabbitMQ (rabbitmq-server) or set RABBITMQ_URL",
  nats: "start NATS with JetStream (nats-server -js) or set NATS_URL",
};

/** Resolves true when a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || "127.0.0.1", port: Number(parsed.port || defaultPort) };
}

export async function serviceAvailable(name: "postgres" | "redis" | "kafka" | "rabbitmq" | "nats"): Promise<boolean> {
  if (name === "rabbitmq" || name === "nats") {
    const { host, port } = hostPort(serviceUrls[name], name === "rabbitmq" ? 5672 : 4222);
    return canConnect(host, port);
  }
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
