import type { Middleware } from "./handler.ts";
import { outcomeFromError } from "./outcome.ts";
import { applyRetryPolicy, type RetryPolicy } from "./retry-policy.ts";

/**
 * Retry with exponential backoff and full jitter; on the last delivery a transient failure
 * becomes a dead letter with reason `exhausted`. Thrown errors are classified first
 * (`outcomeFromError`), so the wrapped handler may simply throw `EdgebusError`s.
 *
 * @example
 * const handler = compose(sendNotification, withLogging(log), withRetry({ maxRetries: 5 }), withDeadLetter());
 */
export function withRetry<Body>(policy: RetryPolicy): Middleware<Body> {
  return (next) =>
    async function retrying(message) {
      let outcome: Awaited<ReturnType<typeof next>>;
      try {
        outcome = await next(message);
      } catch (thrown) {
        outcome = outcomeFromError(thrown);
      }
      return applyRetryPolicy(outcome, message.attempts, policy);
    };
}
