/**
 * Size and count limits of the producer API. They follow Cloudflare Queues (a message may be
 * 128 KB, 1 KB = 1000 B) so that anything accepted can be delivered to every queue.
 */
export const ENVELOPE_LIMITS = {
  /** Largest request body of `POST /v1/events`. */
  maxRequestBytes: 128_000,
  /**
   * Largest single event, measured as the UTF-8 bytes of its normalised JSON form (the queue
   * message body). Queues count about 100 B of metadata toward their 128 KB, so an event that
   * passes here is never refused by a queue after it was recorded.
   */
  maxEventBytes: 128_000 - 100,
  /** Most events in one batch request. */
  maxBatchEvents: 100,
  /** Largest batch request body. */
  maxBatchBytes: 1_000_000,
} as const;

/** UTF-8 byte length of a string (what the queue counts). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}
