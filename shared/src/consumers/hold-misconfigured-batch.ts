import type { z } from "zod";
import { EdgebusError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { settleBatch } from "./consume-batch.ts";
import type { QueueBatch } from "./consumer-message.ts";
import { retryLater } from "./outcome.ts";
import type { Settlement } from "./settle.ts";

/** `path: message; …` for a failed config parse, the text every consumer logs. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
}

/**
 * What a consumer does with a batch when its deployment is misconfigured (a missing binding,
 * secret or variable): nothing can be applied and nothing can be dead-lettered, so every message
 * is kept — retried with backoff, never dead-lettered however often it was delivered — and the
 * problem is logged once per batch as `invalid configuration`. Fixing the configuration and
 * redeploying lets the held messages through. Never throws.
 */
export async function holdMisconfiguredBatch(
  batch: QueueBatch,
  options: { readonly consumer: string; readonly logger: Logger; readonly problem: string },
): Promise<Settlement[]> {
  const error = new EdgebusError("internal", `${options.consumer} is misconfigured`, { retryable: true });
  options.logger.log("error", "invalid configuration", { error_message: options.problem });
  return settleBatch(batch, new Map(batch.messages.map((m) => [m.id, retryLater(error)])), {
    queue: batch.queue,
    consumer: options.consumer,
    retry: { maxRetries: Number.MAX_SAFE_INTEGER },
    deadLetters: {
      async send() {
        throw error;
      },
    },
    logger: options.logger,
    // Nothing says where the counts could go (the bindings are what is wrong); the backlog shows it.
    metrics: null,
  });
}
