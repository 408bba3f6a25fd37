import { describe, expect, it } from "vitest";
import { EdgebusError } from "../errors.ts";
import type { ConsumerMessage } from "./consumer-message.ts";
import { compose } from "./handler.ts";
import { consumed, type Outcome } from "./outcome.ts";
import { withDeadLetter } from "./with-dead-letter.ts";
import { type ProcessedEvents, withDedup } from "./with-dedup.ts";
import { withRetry } from "./with-retry.ts";

type Event = { source: string; id: string; n?: number };

function message(attempts: number, body: Event): ConsumerMessage<Event> {
  return { id: `m-${body.id}`, queue: "q", timestamp: new Date(), body, attempts };
}

/** An in-memory ledger; the Postgres one is tested against Postgres in shared/src/db. */
function memoryLedger(): ProcessedEvents & { keys: Set<string> } {
  const keys = new Set<string>();
  return {
    keys,
    async has(consumer, source, id) {
      return keys.has(`${consumer}|${source}|${id}`);
    },
    async record(consumer, source, id) {
      keys.add(`${consumer}|${source}|${id}`);
    },
  };
}

describe("middleware", () => {
  const policy = { maxRetries: 2, backoff: { random: () => 0.999999 } };

  it("turns a thrown retryable error into a delayed retry, and a permanent one into a dead letter", async () => {
    const handler = compose<Event>(
      async (m) => {
        if (m.body.n === 1) throw new EdgebusError("upstream_unavailable", "down");
        throw new EdgebusError("schema_validation_failed", "bad");
      },
      withRetry(policy),
      withDeadLetter(),
    );
    expect(await handler(message(2, { source: "/s", id: "a", n: 1 }))).toMatchObject({
      kind: "retry-later",
      delaySeconds: 2,
    });
    expect(await handler(message(1, { source: "/s", id: "b", n: 2 }))).toMatchObject({
      kind: "dead-letter",
      reason: "permanent",
    });
  });

  it("dead-letters with reason exhausted on the last delivery", async () => {
    const handler = compose<Event>(async () => {
      throw new EdgebusError("upstream_unavailable", "down");
    }, withRetry(policy));
    const outcome = await handler(message(3, { source: "/s", id: "a" }));
    expect(outcome).toMatchObject({
      kind: "dead-letter",
      reason: "exhausted",
      error: { code: "upstream_unavailable" },
    });
  });

  it("rejects bodies before the handler runs", async () => {
    let ran = false;
    const handler = compose<Event>(
      async () => {
        ran = true;
        return consumed();
      },
      withDeadLetter({ reject: (body) => (body.id === "" ? "event id is empty" : undefined) }),
    );
    const outcome = (await handler(message(1, { source: "/s", id: "" }))) as Extract<Outcome, { kind: "dead-letter" }>;
    expect(ran).toBe(false);
    expect(outcome.error.message).toBe("event id is empty");
    expect(outcome.error.retryable).toBe(false);
  });

  it("runs the effect once per (consumer, source, id) and records only applied events", async () => {
    const ledger = memoryLedger();
    let effects = 0;
    const handler = compose<Event>(
      async (m) => {
        if (m.body.n === 0) throw new EdgebusError("upstream_unavailable", "down");
        effects++;
        return consumed();
      },
      withRetry(policy),
      withDedup({ consumer: "c", ledger, keyOf: (e) => e }),
    );
    expect(await handler(message(1, { source: "/s", id: "x", n: 0 }))).toMatchObject({ kind: "retry-later" });
    expect(ledger.keys.size).toBe(0);
    expect(await handler(message(1, { source: "/s", id: "x" }))).toEqual(consumed());
    expect(await handler(message(2, { source: "/s", id: "x" }))).toEqual(consumed("duplicate"));
    expect(effects).toBe(1);
  });
});
