/**
 * Production fails closed. Outside development a deployment that cannot keep edgebus's promises
 * (`ProducerConfig.problems`: dedup and rate limits in isolate memory, Kafka half-configured)
 * refuses to publish and says so on `/healthz`, both 503 with the problem's code. The settings at
 * fault are logged when the isolate starts (`capabilities.ts`) and shown to admin keys only; any
 * other caller gets the code and a generic message, nothing about the configuration.
 */
import { EdgebusError } from "#shared/errors.ts";
import type { Principal } from "./auth/authenticate.ts";
import type { Capabilities } from "./capabilities.ts";

/** Seconds a client should wait before trying again: an operator has to change the deployment. */
export const NOT_READY_RETRY_AFTER_SECONDS = 60;

/** The refusal for `caps`'s first problem, or undefined when the deployment is ready. */
export function notReadyError(caps: Capabilities, showDetails: boolean): EdgebusError | undefined {
  const [first] = caps.config.problems;
  if (first === undefined) return undefined;
  return new EdgebusError(
    first.code,
    "this deployment is not ready to accept events; its operator has been told in the logs",
    {
      retryable: true,
      retryAfterSeconds: NOT_READY_RETRY_AFTER_SECONDS,
      ...(showDetails ? { details: { problems: caps.config.problems } } : {}),
    },
  );
}

/** 503 with the problem's code when the deployment must not publish; details for an admin key. */
export function assertReadyToPublish(caps: Capabilities, principal: Principal): void {
  const error = notReadyError(caps, principal.admin);
  if (error !== undefined) throw error;
}
