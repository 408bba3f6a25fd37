import { afterAll, describe, expect, it } from "vitest";
import { compose } from "#shared/consumers/handler.ts";
import { consumed } from "#shared/consumers/outcome.ts";
import { withDedup } from "#shared/consumers/with-dedup.ts";
import { migratedTestDatabase } from "../../../test/support/migrated-database.ts";
import { postgresProcessedEvents } from "./processed-events.ts";

const sql = await migratedTestDatabase("shared/db/processed-events");

describe.skipIf(!sql)("postgresProcessedEvents (real Postgres)", () => {
  const db = sql as NonNullable<typeof sql>;
  afterAll(async () => {
    await db.end({ timeout: 5 });
  });

  it("records per consumer, tolerates recording twice, and lets withDedup skip redeliveries", async () => {
    const ledger = postgresProcessedEvents(db);
    const consumer = `test-${crypto.randomUUID()}`;
    const id = crypto.randomUUID();
    expect(await ledger.has(consumer, "/s", id)).toBe(false);
    await ledger.record(consumer, "/s", id);
    await ledger.record(consumer, "/s", id);
    expect(await ledger.has(consumer, "/s", id)).toBe(true);
    expect(await ledger.has(`${consumer}-other`, "/s", id)).toBe(false);

    let effects = 0;
    const handler = compose<{ source: string; id: string }>(
      async () => {
        effects++;
        return consumed();
      },
      withDedup({ consumer, ledger, keyOf: (body) => body }),
    );
    const fresh = { source: "/s", id: crypto.randomUUID() };
    const msg = { id: "m", queue: "q", timestamp: new Date(), attempts: 1, body: fresh };
    expect(await handler(msg)).toEqual(consumed());
    expect(await handler({ ...msg, attempts: 2 })).toEqual(consumed("duplicate"));
    expect(effects).toBe(1);
  });

  it("reports an unreachable database as a retryable upstream_unavailable error", async () => {
    const { openDatabase } = await import("#shared/db/client.ts");
    const down = openDatabase("postgres://postgres@127.0.0.1:1/none", { connectTimeoutSeconds: 2 });
    await expect(postgresProcessedEvents(down).has("c", "/s", "x")).rejects.toMatchObject({
      code: "upstream_unavailable",
      retryable: true,
    });
    await down.end({ timeout: 1 });
  });
});
