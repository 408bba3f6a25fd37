/**
 * Closed-loop load: `concurrency` workers each send a request, wait for its answer and send the
 * next, for `durationMs`. Throughput is what the server sustains with that many requests in
 * flight; latency is per request.
 */

export interface ClosedLoopResult {
  requests: number;
  events: number;
  seconds: number;
  latenciesMs: number[];
}

/** `send` returns the number of events the request carried and throws on a wrong answer. */
export async function runClosedLoop(options: {
  concurrency: number;
  durationMs: number;
  send: () => Promise<{ events: number; elapsedMs: number }>;
}): Promise<ClosedLoopResult> {
  const latenciesMs: number[] = [];
  let events = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        const answer = await options.send();
        latenciesMs.push(answer.elapsedMs);
        events += answer.events;
      }
    }),
  );
  return { requests: latenciesMs.length, events, seconds: (performance.now() - started) / 1000, latenciesMs };
}
