import { eventLogFields, type Logger } from "../log.ts";
import type { ConsumerMessage } from "./consumer-message.ts";
import type { Middleware } from "./handler.ts";

/** How a handled message's line reads when a consumer has more to say than its outcome's note. */
export interface HandledLine {
  readonly level: "info" | "warn";
  readonly note: string;
}

export interface LoggingOptions<Body> {
  /**
   * Called once per handled (`consumed`) message after its handler returned. Without it, or when
   * it answers `undefined`, the line is `info` with the outcome's note (`applied` by default).
   */
  readonly handled?: (message: ConsumerMessage<Body>) => HandledLine | undefined;
}

/**
 * Logs each message's outcome once, with its identifiers (never its data): `message handled` or
 * `message not handled` (warn for a retry, error for a dead letter). Put it outermost.
 */
export function withLogging<Body>(logger: Logger, options: LoggingOptions<Body> = {}): Middleware<Body> {
  return (next) =>
    async function logging(message) {
      const started = Date.now();
      const outcome = await next(message);
      const fields = {
        request_id: message.id,
        attempts: message.attempts,
        outcome: outcome.kind,
        duration_ms: Date.now() - started,
        ...eventLogFields(message.body),
      };
      if (outcome.kind === "consumed") {
        const line = options.handled?.(message) ?? { level: "info", note: outcome.note ?? "applied" };
        logger.log(line.level, "message handled", { ...fields, note: line.note });
      } else
        logger.log(outcome.kind === "dead-letter" ? "error" : "warn", "message not handled", {
          ...fields,
          error_code: outcome.error.code,
          error_message: outcome.error.message,
          ...(outcome.kind === "retry-later" && outcome.delaySeconds !== undefined
            ? { delay_seconds: outcome.delaySeconds }
            : { note: outcome.kind === "dead-letter" ? outcome.reason : undefined }),
        });
      return outcome;
    };
}
