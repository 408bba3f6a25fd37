/**
 * Embedded Postgres for machines without a PostgreSQL server: PGlite (Postgres compiled to WASM)
 * served over the Postgres wire protocol by `@electric-sql/pglite-socket`, persisted under a data
 * folder, listening on 127.0.0.1:<port>. `npm test` and `npm run dev` start it when no server is
 * reachable; any Postgres client (postgres.js, psql, Hyperdrive's local connection string) talks
 * to it like to a real server.
 *
 * Differences from a real server that callers must accept:
 * - one database: whatever database name a client asks for, it gets the same one (PGlite has a
 *   single database), so `CREATE DATABASE` is neither needed nor supported;
 * - no authentication: any user name and password are accepted — bind to loopback only;
 * - queries from all connections run one at a time (pglite-socket multiplexes them), so it is
 *   correct but slower under parallel load.
 *
 * CLI: `tsx scripts/embedded-postgres.ts [--port 54329] [--data .dev-data/postgres]`
 * prints `EMBEDDED_POSTGRES_URL=<url>` once it accepts connections and stops on SIGINT/SIGTERM.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** The port `npm run dev` and `npm test` use unless told otherwise; off 5432 so it never shadows a real server. */
export const EMBEDDED_POSTGRES_DEFAULT_PORT = 54329;

export interface EmbeddedPostgresOptions {
  /** Folder holding the database files; created when missing and reused on the next start. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one (read it back from `port`). */
  port?: number;
  /** Simultaneous client connections; queries are still executed one at a time. */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** Connection string for clients, e.g. `postgres://postgres@127.0.0.1:54329/postgres`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes the database so its files are consistent. Idempotent. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir });
  // postgres.js opens up to 10 connections per client and several suites run at once.
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: options.port ?? EMBEDDED_POSTGRES_DEFAULT_PORT,
    maxConnections: options.maxConnections ?? 100,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  // getServerConn() is "host:port" and carries the OS-assigned port when port 0 was asked for.
  const port = Number(server.getServerConn().split(":").pop());
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: String(EMBEDDED_POSTGRES_DEFAULT_PORT) },
      data: { type: "string", default: ".dev-data/postgres" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer between 0 and 65535 (got '${values.port}')`);
  }
  const postgres = await startEmbeddedPostgres({ dataDir: values.data, port });
  console.log(`EMBEDDED_POSTGRES_URL=${postgres.url}`);
  console.error(`embedded-postgres: PGlite serving ${path.resolve(values.data)} on 127.0.0.1:${postgres.port}`);
  const shutdown = () => {
    postgres.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("embedded-postgres: shutdown failed", error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(`embedded-postgres: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
