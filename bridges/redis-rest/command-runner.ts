import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { argText, type RedisArg, type RedisCommand } from "./command-body.ts";
import { duplicateWithTimeout, GATEWAY_COMMAND_TIMEOUT_MS, withCommandDeadline } from "./command-deadline.ts";
import { encodeReply, type JsonReply } from "./reply-encoding.ts";
import { RedisReplyError, type RespReply } from "./resp-codec.ts";
import { RespConnection, respOptionsLike } from "./resp-connection.ts";
import { rewriteScript, ScriptShaMap, scriptSha } from "./script-rewriter.ts";
import { type TransactionConnectionLimits, TransactionConnections } from "./transaction-connections.ts";

/** One command's answer in the Upstash REST shape: `{result}` (null included) or `{error}`. */
export type CommandOutcome = { result: JsonReply } | { error: string };

/**
 * A command ready for Redis (the request's own array when nothing changes) plus how to turn
 * Redis's reply back into what the client expects.
 */
interface PreparedCommand {
  readonly command: RedisCommand;
  readonly mapReply?: (reply: unknown) => unknown;
}

const SCRIPT_COMMANDS = new Set(["eval", "eval_ro"]);
const SHA_COMMANDS = new Set(["evalsha", "evalsha_ro"]);

/**
 * Runs REST commands against Redis, binary-safe: pipelines and single commands on a connection of
 * its own (`RespConnection`, opened as the ioredis connection it is given: same server, user and
 * database), transactions and `SCRIPT KILL` on ioredis connections duplicated from that one.
 *
 * Guarantees:
 * - Redis errors (error replies) become `{error: <Redis's own text>}` — `NOSCRIPT`, `WRONGTYPE`…
 *   pass through verbatim, which `@upstash/ratelimit` relies on to fall back to `EVAL`;
 * - transport failures (Redis down, timeouts) reject with `upstream_unavailable` instead, so a
 *   caller never mistakes an outage for a command error; a pipeline not answered within
 *   `commandTimeoutMs` (one deadline for all its commands) is such a failure;
 * - a pipeline's commands are written in order on one connection, in one write with whatever
 *   else is sent in the same event-loop turn, so Redis runs them in request order (not
 *   atomically); the connection serves nothing until its `AUTH` and `SELECT` succeeded;
 * - transactions run `MULTI … EXEC` on a dedicated connection from a bounded pool (503 with
 *   `Retry-After` when every one is borrowed); a transaction Redis discards (`EXECABORT`) rejects
 *   with `bad_request` carrying the first queueing error;
 * - `SCRIPT KILL` runs on a control connection of its own: a runaway script blocks the connection
 *   that sent it (and everything pipelined behind it), and Redis accepts the kill only from
 *   another connection.
 */
export class RedisCommandRunner {
  /** Pipelines and single commands: one encoded write and one promise per pipeline. */
  readonly #pipelines: RespConnection;
  readonly #scripts: ScriptShaMap;
  readonly #transactions: TransactionConnections;
  readonly #control: Redis;
  /** The database of the gateway's URL; transaction connections select it explicitly. */
  readonly #db: number;
  readonly #timeoutMs: number;

  constructor(
    redis: Redis,
    options: {
      scripts?: ScriptShaMap;
      transactions?: Partial<TransactionConnectionLimits>;
      /** Deadline of a pipeline (a single command included): `GATEWAY_COMMAND_TIMEOUT_MS` by default. */
      commandTimeoutMs?: number;
    } = {},
  ) {
    this.#timeoutMs = options.commandTimeoutMs ?? GATEWAY_COMMAND_TIMEOUT_MS;
    this.#scripts = options.scripts ?? new ScriptShaMap();
    this.#transactions = new TransactionConnections(redis, options.transactions);
    this.#db = Number(redis.options.db ?? 0);
    this.#pipelines = new RespConnection(respOptionsLike(redis));
    // Opened now, not when a script is already running: a connection opened while Redis is busy
    // cannot select its database.
    this.#control = duplicateWithTimeout(redis, this.#timeoutMs);
    this.#control.on("error", () => undefined);
  }

  /** Socket writes made so far on the pipelines' connection: one per event-loop turn with commands. */
  get pipelineWrites(): number {
    return this.#pipelines.writes;
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
    // Every command leaves in one write on the pipelines' connection, in request order, together
    // with whatever other requests send in this event-loop turn; SCRIPT KILL alone goes to the
    // control connection.
    const kills = prepared.some(isScriptKill);
    const sent = kills ? prepared.filter((command) => !isScriptKill(command)) : prepared;
    const pending = this.#pipelines.send(sent.map((prepared) => prepared.command));
    const killed = kills
      ? prepared.filter(isScriptKill).map((command) => settle(callBuffer(this.#control, command), command))
      : [];
    let replies: RespReply[];
    let killReplies: Settled[];
    try {
      [replies, killReplies] = await withCommandDeadline(Promise.all([pending, Promise.all(killed)]), this.#timeoutMs);
    } catch (error) {
      throw unavailable(error);
    }
    let next = 0;
    let nextKill = 0;
    return prepared.map((command) => {
      if (kills && isScriptKill(command)) return toOutcome(killReplies[nextKill++] as Settled, base64);
      return replyOutcome(replies[next++] as RespReply, command, base64);
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
        const selected = await settle(connection.callBuffer("SELECT", String(this.#db)), { command: ["select"] });
        throwIfTransportFailure([selected]);
        if (selected.kind === "reply-error") {
          this.#transactions.release(connection);
          throw new EdgebusError("bad_request", selected.error.message);
        }
      }
      // Confirmed before anything is queued: commands sent after a refused MULTI would run one by
      // one, outside any transaction.
      const multi = await settle(connection.callBuffer("MULTI"), { command: ["multi"] });
      throwIfTransportFailure([multi]);
      if (multi.kind === "reply-error") {
        this.#transactions.release(connection);
        throw new EdgebusError("bad_request", multi.error.message);
      }
      // The queued commands and EXEC leave in one write.
      const [queued, exec] = corked(connection, true, (): [Promise<Settled>[], Promise<Settled>] => [
        prepared.map((command) => settle(callBuffer(connection, command), command)),
        settle(connection.callBuffer("EXEC"), { command: ["exec"] }),
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
    await this.#pipelines.close();
    await this.#transactions.close();
    await this.#control.quit().catch(() => this.#control.disconnect());
  }

  /**
   * Rewrites scripts Redis would reject (see `rewriteScript`) and maps the client's SHA-1 of the
   * original text to the rewritten script's SHA-1 for `EVALSHA`, `SCRIPT EXISTS` and the reply
   * of `SCRIPT LOAD`.
   */
  #prepare(command: RedisCommand): PreparedCommand {
    const name = command[0];
    const lower = name.toLowerCase();
    const first = command[1];
    const rest = (from: number) => command.slice(from) as RedisArg[];
    if (SCRIPT_COMMANDS.has(lower) && first !== undefined) {
      const script = argText(first);
      const rewritten = rewriteScript(script);
      if (rewritten === null) return { command };
      this.#scripts.remember(script, rewritten);
      return { command: [name, rewritten, ...rest(2)] };
    }
    if (SHA_COMMANDS.has(lower) && first !== undefined) {
      return { command: [name, this.#scripts.resolve(argText(first)), ...rest(2)] };
    }
    if (lower === "script" && first !== undefined) {
      const sub = argText(first).toLowerCase();
      const second = command[2];
      if (sub === "load" && second !== undefined) {
        const original = argText(second);
        const rewritten = rewriteScript(original);
        if (rewritten === null) return { command };
        this.#scripts.remember(original, rewritten);
        // The client expects the SHA-1 of what it sent, and will use it with EVALSHA.
        return { command: [name, first, rewritten], mapReply: () => Buffer.from(scriptSha(original)) };
      }
      if (sub === "exists") {
        return { command: [name, first, ...rest(2).map((sha) => this.#scripts.resolve(argText(sha)))] };
      }
    }
    return { command };
  }
}

/**
 * `command` on an ioredis connection, replies as bytes. Only transactions (whose replies come in
 * `EXEC`'s array, which ioredis leaves as Redis sent it, `HGETALL`'s flat array included) and
 * `SCRIPT KILL` take this way.
 */
function callBuffer(redis: Redis, { command }: PreparedCommand): Promise<unknown> {
  const [name, ...args] = command;
  return redis.callBuffer(name, ...args);
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

/** One reply of a pipeline as the client expects it: `{error}` for an error reply, else `{result}`. */
function replyOutcome(reply: RespReply, command: PreparedCommand, base64: boolean): CommandOutcome {
  if (reply instanceof RedisReplyError) return { error: reply.message };
  return { result: encodeReply(command.mapReply ? command.mapReply(reply) : reply, base64) };
}

function isScriptKill({ command }: PreparedCommand): boolean {
  const sub = command[1];
  return sub !== undefined && command[0].toLowerCase() === "script" && argText(sub).toLowerCase() === "kill";
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
