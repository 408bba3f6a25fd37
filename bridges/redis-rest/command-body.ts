import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";

/**
 * One argument as sent to Redis: text, or bytes (the raw body of a path-style POST, which Upstash
 * documents for binary values).
 */
export type RedisArg = string | Buffer;

/** One Redis command as sent to Redis: the name followed by its arguments. */
export type RedisCommand = readonly [name: string, ...args: RedisArg[]];

/** An argument as text (bytes decoded as UTF-8), for checks on subcommands and flags. */
export function argText(arg: RedisArg): string {
  return typeof arg === "string" ? arg : arg.toString("utf8");
}

/** Query parameters that are not command arguments: `_token` carries the token. */
const RESERVED_QUERY = new Set(["_token"]);

/**
 * A path-style command as Upstash documents it: `/set/foo/bar` is `SET foo bar`; each segment is
 * percent-decoded (`/set/k/a%2Fb` sets `a/b`); the body of a POST or PUT, when there is one, is
 * appended as one more argument, as its raw bytes (JSON or binary values); query parameters come
 * after it, each `name=value` as two arguments and a bare `name` as one (`/set/foo?EX=100` with
 * a body is `SET foo <body> EX 100`). `_token` is not an argument.
 *
 * @param segments the raw (still percent-encoded) path segments after the gateway's mount point
 * @param rawQuery the raw query string without `?`
 */
export function parsePathCommand(
  segments: readonly string[],
  body: Uint8Array | undefined,
  rawQuery: string,
): RedisCommand {
  const decoded = segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new EdgebusError("bad_request", `ERR the path segment "${segment}" is not valid percent-encoding`);
    }
  });
  const [name, ...args] = decoded;
  if (name === undefined || name === "") throw new EdgebusError("bad_request", "ERR the command name is empty");
  const all: RedisArg[] = [...args];
  if (body !== undefined && body.byteLength > 0) all.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  for (const [key, value, bare] of queryPairs(rawQuery)) {
    if (RESERVED_QUERY.has(key)) continue;
    all.push(key);
    if (!bare) all.push(value);
  }
  return [name, ...all];
}

/** `a=1&b&c=` → [a, 1, false], [b, "", true], [c, "", false], in order, `+` as a space. */
function queryPairs(rawQuery: string): [key: string, value: string, bare: boolean][] {
  if (rawQuery === "") return [];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, " "));
    } catch {
      throw new EdgebusError("bad_request", `ERR the query parameter "${text}" is not valid percent-encoding`);
    }
  };
  return rawQuery
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const equals = part.indexOf("=");
      if (equals < 0) return [decode(part), "", true];
      return [decode(part.slice(0, equals)), decode(part.slice(equals + 1)), false];
    });
}

/**
 * `@upstash/redis` sends strings, numbers and booleans as raw JSON values and stringifies
 * everything else itself, so anything else in a command array is a client bug worth a 400.
 */
const commandSchema = z
  .array(z.union([z.string(), z.number(), z.boolean()]), {
    error: "a command is a JSON array of strings, numbers or booleans",
  })
  .min(1, { error: "a command needs at least its name" });

const commandListSchema = z
  .array(commandSchema, { error: "the body must be a JSON array of commands" })
  .min(1, { error: "at least one command is required" });

export interface CommandListLimits {
  /** Largest number of commands accepted in one pipeline or transaction. */
  readonly maxCommands: number;
}

/**
 * The rules of `commandSchema`, checked by hand: a pipeline of a thousand auto-pipelined commands
 * would otherwise cost a schema run per command and per argument. A body that fails this check
 * goes through the schema, whose message explains the refusal (the schema stays the reference).
 */
function isCommand(value: unknown): value is (string | number | boolean)[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const item of value) {
    const type = typeof item;
    // z.number() refuses NaN and ±Infinity (JSON.parse reads 1e999 as Infinity).
    if (type !== "string" && type !== "boolean" && !(type === "number" && Number.isFinite(item))) return false;
  }
  return true;
}

function isCommandList(value: unknown): value is (string | number | boolean)[][] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const command of value) if (!isCommand(command)) return false;
  return true;
}

/** Parses the body of `POST /` (`["set", "k", "v"]`). */
export function parseSingleCommand(body: unknown): RedisCommand {
  if (isCommand(body)) return toRedisCommand(body);
  const parsed = commandSchema.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  return toRedisCommand(parsed.data);
}

/** Parses the body of `POST /pipeline` and `POST /multi-exec` (`[["set","k","v"], ["get","k"]]`). */
export function parseCommandList(body: unknown, limits: CommandListLimits): RedisCommand[] {
  let commands: (string | number | boolean)[][];
  if (isCommandList(body)) commands = body;
  else {
    const parsed = commandListSchema.safeParse(body);
    if (!parsed.success) throw invalidBody(parsed.error);
    commands = parsed.data;
  }
  if (commands.length > limits.maxCommands) {
    throw new EdgebusError(
      "payload_too_large",
      `too many commands: ${commands.length} (limit ${limits.maxCommands} per request)`,
    );
  }
  return commands.map(toRedisCommand);
}

/** Numbers and booleans become the bulk strings Redis expects (`7` → `"7"`, `true` → `"true"`). */
function toRedisCommand(values: readonly (string | number | boolean)[]): RedisCommand {
  const [name, ...args] = values.map((value) => (typeof value === "string" ? value : String(value)));
  if (name === undefined || name === "") throw new EdgebusError("bad_request", "the command name is empty");
  return [name, ...args];
}

function invalidBody(error: z.ZodError): EdgebusError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` (at [${issue.path.join("][")}])` : "";
  return new EdgebusError("bad_request", `${issue?.message ?? "invalid command body"}${where}`);
}
