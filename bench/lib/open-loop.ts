/**
 * Open-loop load: request i is sent at `start + i / rate` whether or not earlier requests have
 * been answered, as independent clients would send them. A slow server therefore sees a growing
 * number of requests in flight instead of silently lowering the offered rate (no coordinated
 * omission). `send` is called on schedule and its promise is not awaited by the scheduler.
 */

export interface OpenLoopResult {
  /** Requests handed to `send`. */
  sent: number;
  /** From the first request to the last one sent (not answered): the achieved rate is sent ÷ this. */
  sendingSeconds: number;
  /** Largest delay between a request's scheduled time and when the scheduler actually sent it. */
  maxScheduleLagMs: number;
}

export async function runOpenLoop(options: {
  ratePerSecond: number;
  durationMs: number;
  send: (index: number) => Promise<void>;
  /** Sleep between scheduler ticks (ms); every request due by then is sent in the tick. */
  tickMs?: number;
}): Promise<OpenLoopResult> {
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let maxScheduleLagMs = 0;
  const start = performance.now();
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * options.ratePerSecond) / 1000) + 1);
    while (sent < due) {
      const scheduledAt = start + (sent * 1000) / options.ratePerSecond;
      maxScheduleLagMs = Math.max(maxScheduleLagMs, now - scheduledAt);
      const request = options.send(sent).finally(() => pending.delete(request));
      pending.add(request);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, options.tickMs ?? 1));
  }
  const sendingSeconds = (performance.now() - start) / 1000;
  await Promise.allSettled([...pending]);
  return { sent, sendingSeconds, maxScheduleLagMs };
}
