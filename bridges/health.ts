/**
 * `/healthz` checks: each one is a named probe with a deadline, so a hung broker answers
 * "unavailable" in seconds instead of holding the health check (and the load balancer) for the
 * client's full retry budget.
 */
import { withDeadline } from "./deadline.ts";

export type HealthProbe = () => Promise<unknown>;

export interface HealthReport {
  status: "ok" | "degraded";
  checks: Record<string, string>;
}

export async function checkHealth(probes: Record<string, HealthProbe>, timeoutMs = 3000): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        await withDeadline(probe(), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
        return [name, "ok"] as const;
      } catch (error) {
        return [name, `unavailable: ${error instanceof Error ? error.message : String(error)}`] as const;
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { status: entries.every(([, v]) => v === "ok") ? "ok" : "degraded", checks };
}

/**
 * `/healthz` without I/O on every call: a report younger than `cacheMs` is answered again, and
 * concurrent calls while the probes run share that one run. So a load balancer, an orchestrator
 * and an attacker polling it together cost Kafka one metadata request and Redis one `PING` per
 * `cacheMs` (`health.cacheMs`, default 2 s), and a report is at most that old.
 */
export class CachedHealth {
  readonly #probes: Record<string, HealthProbe>;
  readonly #cacheMs: number;
  readonly #timeoutMs: number;
  #last: { at: number; report: HealthReport } | undefined;
  #running: Promise<HealthReport> | undefined;

  constructor(probes: Record<string, HealthProbe>, options: { cacheMs: number; timeoutMs: number }) {
    this.#probes = probes;
    this.#cacheMs = options.cacheMs;
    this.#timeoutMs = options.timeoutMs;
  }

  report(): Promise<HealthReport> {
    const last = this.#last;
    if (last && Date.now() - last.at < this.#cacheMs) return Promise.resolve(last.report);
    if (!this.#running) {
      this.#running = checkHealth(this.#probes, this.#timeoutMs)
        .then((report) => {
          this.#last = { at: Date.now(), report };
          return report;
        })
        .finally(() => {
          this.#running = undefined;
        });
    }
    return this.#running;
  }
}
