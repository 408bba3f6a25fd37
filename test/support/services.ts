/**
 * What a suite does when a server it needs is missing: locally it is skipped with a message
 * naming the server and how to start it; with `CI=true` a missing server fails the run (CI must
 * never pass by skipping). Where the servers are and the probes: scripts/service-probe.ts.
 *
 * Runs in Node (globalSetup, Node projects). Workerd projects receive the URLs through
 * `provide()`/`inject()` from their globalSetup.
 */
import { isCI, serviceAvailable, serviceHints } from "../../scripts/service-probe.ts";

/**
 * Call at the top of a suite (or in globalSetup). Returns true when the suite can run.
 * Missing server: throws under CI, otherwise prints why the suite is skipped and returns false.
 */
export async function requireService(
  name: "postgres" | "redis" | "kafka" | "rabbitmq" | "nats",
  suite: string,
): Promise<boolean> {
  if (await serviceAvailable(name)) return true;
  const message = `${suite}: ${name} is not reachable — ${serviceHints[name]}`;
  if (isCI) throw new Error(`${message} (CI=true: a missing server fails the run)`);
  console.warn(`SKIPPED ${message}`);
  return false;
}
