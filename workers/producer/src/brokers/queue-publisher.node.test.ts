import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { type QueueBinding, QueuePublisher } from "./queue-publisher.ts";

/**
 * Error mapping only: these bindings throw the texts Cloudflare documents for its limits, which
 * Miniflare cannot be made to produce. Sending itself is tested against Miniflare's real queue
 * in test/contract/workerd.
 */
function bindingThrowing(error: unknown): QueueBinding {
  return {
    async sendBatch() {
      throw error;
    },
  };
}

const message = { id: "m-1", value: JSON.stringify({ id: "1" }) };

async function failureOf(binding: QueueBinding): Promise<EdgebusError> {
  const failure = await new QueuePublisher({ q: binding }).publish("q", [message]).catch((error: unknown) => error);
  if (!(failure instanceof EdgebusError)) throw new Error(`expected an EdgebusError, got ${String(failure)}`);
  return failure;
}

describe("QueuePublisher error mapping", () => {
  it.each([
    ["Too Many Requests", "throttled"],
    ["Queue send failed: Storage Limit Exceeded", "backlog full"],
    ["Network connection lost.", "unavailable"],
  ])("maps %j to a retryable upstream_unavailable", async (text, reason) => {
    const failure = await failureOf(bindingThrowing(new Error(text)));
    expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: true });
    expect(failure.message).toContain(reason);
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it("maps a size rejection from the queue to payload_too_large", async () => {
    const failure = await failureOf(bindingThrowing(new Error("batch size of 300000 bytes exceeds limit of 288000")));
    expect(failure).toMatchObject({ code: "payload_too_large", retryable: false });
  });

  it("refuses a value that is not JSON before sending anything", async () => {
    let calls = 0;
    const counting: QueueBinding = {
      async sendBatch() {
        calls += 1;
      },
    };
    const failure = await new QueuePublisher({ q: counting })
      .publish("q", [message, { id: "bad", value: "{not json" }])
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "internal", retryable: false });
    expect(calls).toBe(0);
  });
});
