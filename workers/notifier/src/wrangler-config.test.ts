/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import wranglerToml from "../wrangler.toml?raw";

/** The value of `key = ...` inside the first `[[queues.consumers]]` table. */
function consumerSetting(key: string): string | undefined {
  const table = wranglerToml.split("[[queues.consumers]]")[1]?.split(/\n\[/)[0] ?? "";
  return new RegExp(`^${key}\\s*=\\s*"?([^"\\n]+)"?`, "m").exec(table)?.[1]?.trim();
}

describe("workers/notifier/wrangler.toml", () => {
  it("consumes notifications with explicit limits and its dead-letter queue", () => {
    expect(consumerSetting("queue")).toBe("notifications");
    expect(consumerSetting("dead_letter_queue")).toBe("notifications-dlq");
    expect(Number(consumerSetting("max_batch_size"))).toBeGreaterThan(0);
    expect(Number(consumerSetting("max_batch_timeout"))).toBeGreaterThanOrEqual(0);
  });

  it("MAX_RETRIES equals the consumer's max_retries (the Worker dead-letters on the last delivery)", () => {
    const maxRetries = /^MAX_RETRIES\s*=\s*"(\d+)"/m.exec(wranglerToml)?.[1];
    expect(maxRetries).toBeDefined();
    expect(consumerSetting("max_retries")).toBe(maxRetries);
  });
});
