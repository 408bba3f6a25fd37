import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";

/** One Redis command as sent to Redis: the name followed by its arguments, all strings. */
export type RedisCommand = readonly [name: string, ...args: string[]];

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

/** Parses the body of `POST /` (`["set", "k", "v"]`). */
export function parseSingleCommand(body: unknown): RedisCommand {
  const parsed = commandSchema.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  return toRedisCommand(parsed.data);
}

/** Parses the body of `POST /pipeline` and `POST /multi-exec` (`[["set","k","v"], ["get","k"]]`). */
export function parseCommandList(body: unknown, limits: CommandListLimits): RedisCommand[] {
  const parsed = commandListSchema.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  if (parsed.data.length > limits.maxCommands) {
    throw new EdgebusError(
      "payload_too_large",
      `too many commands: ${parsed.data.length} (limit ${limits.maxCommands} per request)`,
    );
  }
  return parsed.data.map(toRedisCommand);
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
