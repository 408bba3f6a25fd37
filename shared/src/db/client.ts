/**
 * Postgres clients for Workers and Node. In a Worker, open one client per invocation from the
 * Hyperdrive binding's `connectionString` (Hyperdrive pools the real connections; sockets
 * cannot outlive an invocation or live in global scope). `max: 5` because a Worker invocation
 * may hold 6 open connections; `fetch_types: false` saves a round trip per connection (edgebus
 * passes jsonb as text and casts in SQL).
 */
import postgres from "postgres";
import { EdgebusError } from "../errors.ts";
import { createLogger } from "../log.ts";

export type Database = postgres.Sql;

export interface DatabaseOptions {
  /** Connections this client may open. Default 5 (Workers allow 6 per invocation). */
  readonly max?: number;
  /** Seconds to wait for a connection before failing (then the batch is retried). Default 10. */
  readonly connectTimeoutSeconds?: number;
}

export function openDatabase(connectionString: string, options: DatabaseOptions = {}): Database {
  return postgres(connectionString, {
    max: options.max ?? 5,
    fetch_types: false,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
  });
}

/**
 * Postgres SQLSTATE classes a retry cannot fix for the same input: data exceptions (22),
 * integrity violations (23), syntax / undefined objects (42). Everything else (connection
 * loss, serialization failures 40, resource exhaustion 53, admin shutdown 57, timeouts) may
 * succeed later.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(["22", "23", "42"]);

/**
 * Undefined table (42P01) and undefined column (42703): the code was deployed before
 * `npm run migrate`. Not the message's fault, and fixed by running the migrations, so retried
 * (never dead-lettered as permanent), no sooner than `SCHEMA_BEHIND_RETRY_SECONDS`.
 */
const SCHEMA_BEHIND_SQLSTATES: Readonly<Record<string, string>> = {
  "42P01": "undefined table",
  "42703": "undefined column",
};
export const SCHEMA_BEHIND_RETRY_SECONDS = 60;

const databaseLog = createLogger({ component: "postgres" });

/**
 * Translates a database failure into an `EdgebusError`: permanent SQL errors are `internal` and
 * not retryable (a retry would fail the same way, and they are bugs or bad data worth a dead
 * letter); connection failures and other errors are `upstream_unavailable` and retryable.
 * A schema older than the code (42P01, 42703) is `internal` but retryable, and logged with the
 * fix (run the migrations) — every consumer that writes Postgres goes through here.
 * Messages carry the SQLSTATE and error text only, never parameter values.
 */
export function databaseError(thrown: unknown, action: string): EdgebusError {
  if (thrown instanceof EdgebusError) return thrown;
  const code = typeof thrown === "object" && thrown !== null && "code" in thrown ? String(thrown.code) : "";
  const isSqlState = /^[0-9A-Z]{5}$/.test(code);
  const schemaBehind = SCHEMA_BEHIND_SQLSTATES[code];
  if (isSqlState && schemaBehind !== undefined) {
    // Postgres' text names only the relation or column ("relation … does not exist"), no values.
    const text = thrown instanceof Error ? thrown.message : "";
    databaseLog.log("error", "the database schema is older than the code: run the migrations (npm run migrate)", {
      error_code: code,
      error_message: text,
      note: action,
    });
    return new EdgebusError(
      "internal",
      `${action} failed: Postgres ${code} (${schemaBehind}): the database schema is older than the code; run the migrations (npm run migrate)`,
      { cause: thrown, retryable: true, retryAfterSeconds: SCHEMA_BEHIND_RETRY_SECONDS, details: { sqlstate: code } },
    );
  }
  if (isSqlState && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) {
    return new EdgebusError("internal", `${action} failed: Postgres ${code}`, {
      cause: thrown,
      retryable: false,
      details: { sqlstate: code },
    });
  }
  const reason = code || (thrown instanceof Error ? thrown.message : "unknown error");
  return new EdgebusError("upstream_unavailable", `${action} failed: Postgres unavailable (${reason})`, {
    cause: thrown,
    retryable: true,
  });
}
