import { eventLogFields, type Logger } from "../log.ts";
import type { Middleware } from "./handler.ts";

/** Logs each message's outcome with its identifiers (never its data). Put it outermost. */
export function withLogging<Body>(logger: Logger): Middleware<Body> {
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
      if (outcome.kind === "consumed")
        logger.log("info", "message handled", { ...fields, note: outcome.note ?? "applied" });
      else
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
