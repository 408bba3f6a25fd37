import { EdgebusError } from "../errors.ts";
import type { Middleware } from "./handler.ts";
import { deadLetter, type Outcome, outcomeFromError } from "./outcome.ts";

export interface DeadLetterOptions<Body> {
  /**
   * Checks the body before the handler runs; return a reason to dead-letter the message
   * (not a CloudEvent, wrong type for this consumer, schema-invalid), or undefined to go on.
   */
  readonly reject?: (body: Body) => string | EdgebusError | undefined;
}

/**
 * Sends messages that retrying cannot fix to the dead-letter queue: bodies `reject` refuses,
 * and errors with `retryable: false` (schema invalid, 4xx other than 408/429). Retryable
 * throws become `retry-later`. Put it innermost so the handler never throws past it.
 *
 * @example
 * compose(handler, withRetry(policy), withDeadLetter({ reject: (body) => isCloudEvent(body) ? undefined : "not a CloudEvent" }))
 */
export function withDeadLetter<Body>({ reject }: DeadLetterOptions<Body> = {}): Middleware<Body> {
  return (next) =>
    async function deadLettering(message): Promise<Outcome> {
      const refused = reject?.(message.body);
      if (refused !== undefined) {
        const error =
          refused instanceof EdgebusError
            ? refused
            : new EdgebusError("invalid_envelope", refused, { retryable: false });
        return deadLetter(error, "permanent");
      }
      try {
        return await next(message);
      } catch (thrown) {
        return outcomeFromError(thrown);
      }
    };
}
