/**
 * `/healthz` checks: each one is a named probe with a deadline, so a hung broker answers
 * "unavailable" in seconds instead of holding the health check (and the load balancer) for the
 * client's full retry budget.
 */
export type HealthProbe = () => Promise<unknown>;

export interface HealthReport {
  status: "ok" | "degraded";
  checks: Record<string, string>;
}

export async function checkHealth(probes: Record<string, HealthProbe>, timeoutMs = 3000): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), deadline]);
        return [name, "ok"] as const;
      } catch (error) {
        return [name, `unavailable: ${error instanceof Error ? error.message : String(error)}`] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { status: entries.every(([, v]) => v === "ok") ? "ok" : "degraded", checks };
}
