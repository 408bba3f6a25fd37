import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { argText, type RedisArg, type RedisCommand } from "./command-body.ts";
import { duplicateWithTimeout, GATEWAY_COMMAND_TIMEOUT_MS, withCommandDeadline } from "./command-deadline.ts";
import { encodeReply, type JsonReply } from "./reply-encoding.ts";
import { rewriteScript, ScriptShaMap, scriptSha } from "./script-rewriter.ts";
import { type TransactionConnectionLimits, TransactionConnections } from "./transaction-connections.ts";

/** One command's answer in the Upstash REST shape: `{result}` (null included) or `{error}`. */
export type CommandOutcome = { result: JsonReply } | { error: string };

/** A command ready for Redis plus how to turn Redis's reply back into what the client expects. */
interface PreparedCommand {
  readonly name: string;
  readonly args: RedisArg[];
  readonly mapReply?: (reply: unknown) => unknown;
}

const SCRIPT_COMMANDS = new Set(["eval", "eval_ro"]);
const SHA_COMMANDS = new Set(["evalsha", "evalsha_ro"]);
/** Command names ioredis 5 registers a reply transformer for (`Command.setReplyTransformer`). */
const REPLY_TRANSFORMED_BY_IOREDIS = new Set(["hgetall"]);

/**
 * Runs REST commands against Redis through ioredis `callBuffer`, so values are binary-safe.
 *
 * Guarantees:
 * - Redis errors (`ReplyError`) become `{error: <Redis's own text>}` — `NOSCRIPT`, `WRONGTYPE`…
 *   pass through verbatim, which `@upstash/ratelimit` relies on to fall back to `EVAL`;
 * - transport failures (Redis down, timeouts) reject with `upstream_unavailable` instead, so a
 *   caller never mistakes an outage for a command error; a pipeline not answered within
 *   `commandTimeoutMs` (one deadline for all its commands) is such a failure;
 * - pipeline commands are written in order on one connection in the same tick, so Redis runs
 *   them in request order (not atomically);
 * - transactions run `MULTI … EXEC` on a dedicated connection from a bounded pool (503 with
 *   `Retry-After` when every one is borrowed); a transaction Redis discards (`EXECABORT`) rejects
 *   with `bad_request` carrying the first queueing error;
 * - `SCRIPT KILL` runs on a control connection of its own: a runaway script blocks the connection
 *   that sent it (and everything pipelined behind it), and Redis accepts the kill only from
 *   another connection.
 */
export class RedisCommandRunner {
  readonly #redis: Redis;
  readonly #scripts: ScriptShaMap;
  readonly #transactions: TransactionConnections;
  readonly #control: Redis;
  /** The database of the gateway's URL; transaction connections select it explicitly. */
  readonly #db: number;
  readonly #timeoutMs: number;
  /** True while the shared connection's socket is corked until the end of this turn. */
  #corkedTurn = false;

  constructor(
    redis: Redis,
    options: {
      scripts?: ScriptShaMap;
      transactions?: Partial<TransactionConnectionLimits>;
      /** Deadline of a pipeline (a single command included): `GATEWAY_COMMAND_TIMEOUT_MS` by default. */
      commandTimeoutMs?: number;
    } = {},
  ) {
    this.#redis = redis;
    this.#timeoutMs = options.commandTimeoutMs ?? GATEWAY_COMMAND_TIMEOUT_MS;
    this.#scripts = options.scripts ?? new ScriptShaMap();
    this.#transactions = new TransactionConnections(redis, options.transactions);
    this.#db = Number(redis.options.db ?? 0);
    // Opened now, not when a script is already running: a connection opened while Redis is busy
    // cannot select its database.
    this.#control = duplicateWithTimeout(redis, this.#timeoutMs);
    this.#control.on("error", () => undefined);
  }

  get scripts(): ScriptShaMap {
    return this.#scripts;
  }

  async runOne(command: RedisCommand, base64: boolean): Promise<CommandOutcome> {
    const [outcome] = await this.runPipeline([command], base64);
    if (outcome === undefined) throw new EdgebusError("internal", "no reply for a single command");
    return outcome;
  }

  async runPipeline(commands: readonly RedisCommand[], base64: boolean): Promise<CommandOutcome[]> {
    const prepared = commands.map((command) => this.#prepare(command));
    // Issue every command before awaiting any: ioredis writes them back to back on one connection,
    // in request order. Corked until the end of this turn, the socket sends them, and whatever
    // other requests issue in the same turn, as one write instead of one write per command.
    this.#corkForThisTurn();
    const pending = prepared.map((command) => {
      const connection = isScriptKill(command) ? this.#control : this.#redis;
      return settle(connection.callBuffer(command.name, ...command.args), command);
    });
    let settled: Settled[];
    try {
      settled = await withCommandDeadline(Promise.all(pending), this.#timeoutMs);
    } catch (error) {
      throw unavailable(error);
    }
    return settled.map((outcome) => toOutcome(outcome, base64));
  }

  /**
   * Corks the shared connection's socket until the end of this event-loop turn: the pipelines and
   * single commands of every request read in this turn leave in one write (one system call and
   * one Redis read for all of them), in the order they were issued. A connection not ready yet
   * queues commands inside ioredis and writes them once it is.
   */
  #corkForThisTurn(): void {
    if (this.#corkedTurn) return;
    const stream = this.#redis.status === "ready" ? this.#redis.stream : undefined;
    if (stream === undefined) return;
    stream.cork();
    this.#corkedTurn = true;
    setImmediate(() => {
      this.#corkedTurn = false;
      stream.uncork();
    });
  }

  async runTransaction(commands: readonly RedisCommand[], base64: boolean): Promise<CommandOutcome[]> {
    const prepared = commands.map((command) => this.#prepare(command));
    const connection = this.#transactions.acquire();
    try {
      // ioredis selects the database when it connects, but a SELECT that failed then (Redis busy
      // with a script) would leave the connection on database 0: select it before every
      // transaction, and run nothing when that fails.
      if (this.#db !== 0) {
        const selected = await settle(connection.callBuffer("SELECT", String(this.#db)), { name: "select", args: [] });
        throwIfTransportFailure([selected]);
        if (selected.kind === "reply-error") {
          this.#transactions.release(connection);
          throw new EdgebusError("bad_request", selected.error.message);
        }
      }
      // Confirmed before anything is queued: commands sent after a refused MULTI would run one by
      // one, outside any transaction.
      const multi = await settle(connection.callBuffer("MULTI"), { name: "multi", args: [] });
      throwIfTransportFailure([multi]);
      if (multi.kind === "reply-error") {
        this.#transactions.release(connection);
        throw new EdgebusError("bad_request", multi.error.message);
      }
      // The queued commands and EXEC leave in one write.
      const [queued, exec] = corked(connection, true, (): [Promise<Settled>[], Promise<Settled>] => [
        prepared.map((command) => settle(connection.callBuffer(command.name, ...command.args), command)),
        settle(connection.callBuffer("EXEC"), { name: "exec", args: [] }),
      ]);
      const queueing = await Promise.all(queued);
      const executed = await exec;
      throwIfTransportFailure([...queueing, executed]);
      if (executed.kind === "reply-error") {
        const firstQueueError = queueing.find((outcome) => outcome.kind === "reply-error");
        const reason = firstQueueError?.kind === "reply-error" ? `: ${firstQueueError.error.message}` : "";
        this.#transactions.release(connection);
        throw new EdgebusError("bad_request", `${executed.error.message.replace(/\.$/, "")}${reason}`);
      }
      this.#transactions.release(connection);
      const replies = executed.kind === "reply" && Array.isArray(executed.reply) ? executed.reply : [];
      return prepared.map((command, index) => {
        const reply: unknown = replies[index];
        // Runtime errors of single commands inside EXEC come back as error objects in the array.
        if (reply instanceof Error) return { error: reply.message };
        return { result: encodeReply(command.mapReply ? command.mapReply(reply) : reply, base64) };
      });
    } catch (error) {
      if (error instanceof EdgebusError && error.code === "bad_request") throw error;
      this.#transactions.discard(connection);
      throw error instanceof EdgebusError ? error : unavailable(error);
    }
  }

  async close(): Promise<void> {
    await this.#transactions.close();
    await this.#control.quit().catch(() => this.#control.disconnect());
  }

  /**
   * Rewrites scripts Redis would reject (see `rewriteScript`) and maps the client's SHA-1 of the
   * original text to the rewritten script's SHA-1 for `EVALSHA`, `SCRIPT EXISTS` and the reply
   * of `SCRIPT LOAD`.
   */
  #prepare(command: RedisCommand): PreparedCommand {
    const [sentName, ...args] = command;
    const lower = sentName.toLowerCase();
    // ioredis transforms the reply of a command named exactly `hgetall` into an object (losing the
    // flat RESP array and binary field names); its transformers match the exact name, so the
    // upper-case name reaches Redis untransformed. Other names stay as sent, for Redis's messages.
    const name = REPLY_TRANSFORMED_BY_IOREDIS.has(sentName) ? sentName.toUpperCase() : sentName;
    if (SCRIPT_COMMANDS.has(lower) && args[0] !== undefined) {
      const script = argText(args[0]);
      const rewritten = rewriteScript(script);
      if (rewritten === null) return { name, args };
      this.#scripts.remember(script, rewritten);
      return { name, args: [rewritten, ...args.slice(1)] };
    }
    if (SHA_COMMANDS.has(lower) && args[0] !== undefined) {
      return { name, args: [this.#scripts.resolve(argText(args[0])), ...args.slice(1)] };
    }
    const sub = args[0] === undefined ? undefined : argText(args[0]).toLowerCase();
    if (lower === "script" && sub === "load" && args[1] !== undefined) {
      const original = argText(args[1]);
      const rewritten = rewriteScript(original);
      if (rewritten === null) return { name, args };
      this.#scripts.remember(original, rewritten);
      // The client expects the SHA-1 of what it sent, and will use it with EVALSHA.
      return { name, args: [args[0] as RedisArg, rewritten], mapReply: () => Buffer.from(scriptSha(original)) };
    }
    if (lower === "script" && sub === "exists") {
      return { name, args: [args[0] as RedisArg, ...args.slice(1).map((sha) => this.#scripts.resolve(argText(sha)))] };
    }
    return { name, args };
  }
}

/**
 * Runs `issue` with `redis`'s socket corked when `worthIt`: ioredis writes each command to the
 * socket as it is called, and the writes made while corked leave as one. Commands queued while
 * the connection is not ready never reach the socket here; ioredis writes them once it is.
 */
function corked<T>(redis: Redis, worthIt: boolean, issue: () => T): T {
  const stream = worthIt && redis.status === "ready" ? redis.stream : undefined;
  stream?.cork();
  try {
    return issue();
  } finally {
    stream?.uncork();
  }
}

function isScriptKill(command: PreparedCommand): boolean {
  const sub = command.args[0];
  return command.name.toLowerCase() === "script" && sub !== undefined && argText(sub).toLowerCase() === "kill";
}

type Settled =
  | { kind: "reply"; reply: unknown }
  | { kind: "reply-error"; error: Error }
  | { kind: "transport-error"; error: unknown };

async function settle(promise: Promise<unknown>, command: PreparedCommand): Promise<Settled> {
  try {
    const reply = await promise;
    return { kind: "reply", reply: command.mapReply ? command.mapReply(reply) : reply };
  } catch (error) {
    if (isReplyError(error)) return { kind: "reply-error", error };
    return { kind: "transport-error", error };
  }
}

function toOutcome(settled: Settled, base64: boolean): CommandOutcome {
  if (settled.kind === "reply") return { result: encodeReply(settled.reply, base64) };
  if (settled.kind === "reply-error") return { error: settled.error.message };
  throw unavailable(settled.error);
}

function throwIfTransportFailure(outcomes: readonly Settled[]): void {
  const failure = outcomes.find((outcome) => outcome.kind === "transport-error");
  if (failure) throw unavailable(failure.error);
}

/** ioredis's `ReplyError` is typed `any`; its name is stable and marks an error Redis sent. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

function unavailable(cause: unknown): EdgebusError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new EdgebusError("upstream_unavailable", `ERR redis is unavailable: ${reason}`, { cause });
}
