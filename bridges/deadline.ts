/**
 * `work`, or a rejection with `expired()` once `timeoutMs` has passed without its answer; the
 * timer is cleared either way. `work` itself goes on (Node cannot cancel it): its late answer or
 * failure is dropped. The bridge's one way to bound a call to a broker or to Redis.
 */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number, expired: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), timeoutMs);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
