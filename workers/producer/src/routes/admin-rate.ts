import type { Context } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import type { ProducerEnv } from "../hono-env.ts";

/**
 * The rate of a replay job: the request's `rate_per_second` when given, never above the
 * deployment's `REPLAY_RATE_PER_SECOND` (which is also the default). Asking for more is a 400
 * that names the cap, rather than a silent cut.
 */
export function resolveRate(c: Context<ProducerEnv>, requested: number | undefined): number {
  const cap = c.get("caps").config.admin.ratePerSecond;
  if (requested === undefined) return cap;
  if (requested > cap) {
    throw new EdgebusError(
      "bad_request",
      `rate_per_second ${requested} is above this deployment's limit of ${cap} (REPLAY_RATE_PER_SECOND)`,
      { details: { rate_per_second: requested, max_rate_per_second: cap } },
    );
  }
  return requested;
}
