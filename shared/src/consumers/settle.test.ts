import { describe, expect, it } from "vitest";
import { EdgebusError } from "../errors.ts";
import { createLogger } from "../log.ts";
import type { QueueMessage } from "./consumer-message.ts";
import { type DeadLetterMessage, deadLetterMessageSchema } from "./dead-letter-message.ts";
import { consumed, deadLetter, retryLater } from "./outcome.ts";
import { type SettleContext, settle } from "./settle.ts";

/** A queue message that records what was done to it (the shape workerd hands a consumer). */
function recordingMessage(attempts: number, body: unknown = { id: "e1", source: "/t", type: "gov.t.x.y" }) {
  const calls: { ack: number; retries: ({ delaySeconds?: number } | undefined)[] } = { ack: 0, retries: [] };
  const message: QueueMessage = {
    id: `m-${attempts}`,
    timestamp: new Date("2026-11-22T08:00:00Z"),
    body,
    attempts,
    ack: () => {
      calls.ack++;
    },
    retry: (options) => {
      calls.retries.push(options);
    },
  };
  return { message, calls };
}

function context(overrides: Partial<SettleContext> = {}) {
  const sent: DeadLetterMessage[] = [];
  const lines: string[] = [];
  const ctx: SettleContext = {
    queue: "notifications",
    consumer: "notifier",
    retry: { maxRetries: 3, backoff: { random: () => 0.999999 } },
    deadLetters: {
      async send(message) {
        sent.push(message);
      },
    },
    logger: createLogger({}, (line) => lines.push(line)),
    now: () => new Date("2026-11-22T09:00:00Z"),
    ...overrides,
  };
  return { ctx, sent, lines };
}

describe("settle", () => {
  it("acks a consumed message", async () => {
    const { message, calls } = recordingMessage(1);
    expect(await settle(message, consumed(), context().ctx)).toEqual({ action: "ack" });
    expect(calls).toEqual({ ack: 1, retries: [] });
  });

  it("retries a transient failure with exponential backoff by attempt", async () => {
    for (const [attempts, delay] of [
      [1, 1],
      [2, 2],
      [3, 4],
    ] as const) {
      const { message, calls } = recordingMessage(attempts);
      const result = await settle(
        message,
        retryLater(new EdgebusError("upstream_unavailable", "db down")),
        context().ctx,
      );
      expect(result).toEqual({ action: "retry", delaySeconds: delay });
      expect(calls).toEqual({ ack: 0, retries: [{ delaySeconds: delay }] });
    }
  });

  it("honours a provider's Retry-After", async () => {
    const { message, calls } = recordingMessage(1);
    const error = new EdgebusError("rate_limited", "provider said slow down", { retryAfterSeconds: 90 });
    await settle(message, retryLater(error), context().ctx);
    expect(calls.retries).toEqual([{ delaySeconds: 90 }]);
  });

  it("dead-letters a permanent failure at once with the error, then acks", async () => {
    const { message, calls } = recordingMessage(1);
    const { ctx, sent } = context();
    const error = new EdgebusError("schema_validation_failed", "data.email is invalid", {
      details: { path: "email" },
      cause: new TypeError("x"),
    });
    expect(await settle(message, deadLetter(error), ctx)).toEqual({ action: "dead-letter" });
    expect(calls).toEqual({ ack: 1, retries: [] });
    expect(sent).toHaveLength(1);
    const letter = deadLetterMessageSchema.parse(sent[0]);
    expect(letter).toMatchObject({
      queue: "notifications",
      consumer: "notifier",
      attempts: 1,
      enqueued_at: "2026-11-22T08:00:00.000Z",
      failed_at: "2026-11-22T09:00:00.000Z",
      error: { code: "schema_validation_failed", reason: "permanent", type: "TypeError", details: { path: "email" } },
      body: message.body,
    });
  });

  it("dead-letters on the last delivery (attempts > maxRetries) with reason exhausted", async () => {
    const { message, calls } = recordingMessage(4);
    const { ctx, sent } = context();
    await settle(message, retryLater(new EdgebusError("upstream_unavailable", "still down")), ctx);
    expect(calls).toEqual({ ack: 1, retries: [] });
    expect(sent[0]?.error).toMatchObject({ code: "upstream_unavailable", reason: "exhausted", message: "still down" });
  });

  it("retries the original when the dead-letter queue refuses, so nothing is lost", async () => {
    const { message, calls } = recordingMessage(1);
    const { ctx } = context({
      deadLetters: {
        async send() {
          throw new Error("queue unavailable");
        },
      },
    });
    const result = await settle(message, deadLetter(new EdgebusError("bad_request", "no")), ctx);
    expect(result).toEqual({ action: "retry", delaySeconds: 1 });
    expect(calls).toEqual({ ack: 0, retries: [{ delaySeconds: 1 }] });
  });

  it("drops the error details when the dead-letter queue refuses the full letter", async () => {
    const { message, calls } = recordingMessage(1);
    const sent: DeadLetterMessage[] = [];
    const { ctx } = context({
      deadLetters: {
        async send(letter) {
          if (letter.error.details !== undefined) throw new Error("message too large");
          sent.push(letter);
        },
      },
    });
    const error = new EdgebusError("schema_validation_failed", "bad", { details: { issues: ["x".repeat(10)] } });
    expect(await settle(message, deadLetter(error), ctx)).toEqual({ action: "dead-letter" });
    expect(calls.ack).toBe(1);
    expect(sent[0]?.error).toEqual({
      code: "schema_validation_failed",
      message: "bad",
      reason: "permanent",
      type: "EdgebusError",
    });
    expect(sent[0]?.body).toEqual(message.body);
  });

  it("clamps a handler's own delay to what Queues accepts", async () => {
    const { message, calls } = recordingMessage(1);
    await settle(message, retryLater(new EdgebusError("rate_limited", "later"), 10 ** 7), context().ctx);
    expect(calls.retries).toEqual([{ delaySeconds: 86_400 }]);
  });

  it("never logs the event data", async () => {
    const body = { id: "e9", source: "/s", type: "gov.auth.citizen.created", data: { email: "amina@example.org" } };
    const { message } = recordingMessage(1, body);
    const { ctx, lines } = context();
    await settle(message, deadLetter(new EdgebusError("bad_request", "no")), ctx);
    expect(lines).toHaveLength(1);
    expect(lines.join("\n")).not.toContain("amina");
    expect(JSON.parse(lines[0] as string)).toMatchObject({ event_id: "e9", request_id: "m-1" });
  });
});
