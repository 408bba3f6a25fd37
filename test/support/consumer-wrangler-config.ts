/**
 * One suite every consumer Worker runs against its own wrangler config (imported with `?raw`, so
 * the test reads the file wrangler deploys): the consumer table names its queue and DLQ with
 * explicit limits, the Worker has a producer binding for that DLQ, and `MAX_RETRIES` equals the
 * consumer's `max_retries` (the Worker dead-letters on the last delivery itself, with the reason).
 */
import { describe, expect, it } from "vitest";

/** The value of `key = ...` inside the first table with header `header`. */
function tableSetting(toml: string, header: string, key: string): string | undefined {
  const table = toml.split(header)[1]?.split(/\n\[/)[0] ?? "";
  return new RegExp(`^${key}\\s*=\\s*"?([^"\\n]+)"?`, "m").exec(table)?.[1]?.trim();
}

export function runConsumerConfigSuite(
  configName: string,
  toml: string,
  expected: { queue: string; deadLetterQueue: string },
): void {
  describe(`${configName} consumer settings`, () => {
    it("consumes its queue with explicit limits and its dead-letter queue", () => {
      expect(tableSetting(toml, "[[queues.consumers]]", "queue")).toBe(expected.queue);
      expect(tableSetting(toml, "[[queues.consumers]]", "dead_letter_queue")).toBe(expected.deadLetterQueue);
      expect(Number(tableSetting(toml, "[[queues.consumers]]", "max_batch_size"))).toBeGreaterThan(0);
      expect(Number(tableSetting(toml, "[[queues.consumers]]", "max_batch_timeout"))).toBeGreaterThanOrEqual(0);
    });

    it("binds DEAD_LETTER_QUEUE to that dead-letter queue", () => {
      expect(tableSetting(toml, "[[queues.producers]]", "binding")).toBe("DEAD_LETTER_QUEUE");
      expect(tableSetting(toml, "[[queues.producers]]", "queue")).toBe(expected.deadLetterQueue);
    });

    it("MAX_RETRIES equals the consumer's max_retries (the Worker dead-letters on the last delivery)", () => {
      const maxRetries = tableSetting(toml, "[vars]", "MAX_RETRIES");
      expect(maxRetries).toMatch(/^\d+$/);
      expect(tableSetting(toml, "[[queues.consumers]]", "max_retries")).toBe(maxRetries);
    });
  });
}
