import { afterAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../../../scripts/service-probe.ts";
import { migratedTestDatabase } from "../../../../test/support/migrated-database.ts";
import { REFRESH_WAIT_MS, SubscriptionRouter } from "./subscription-router.ts";
import { createSubscription, loadRoutableSubscriptions } from "./subscription-store.ts";

const sql = await migratedTestDatabase("producer/subscription-router");
const TTL_SECONDS = 5;
const OWNER = `router-test-${crypto.randomUUID()}`;

/** A router on the test database whose clock the test moves, counting its reads of the table. */
function router(options: { hangOnRead?: number; holdRead?: number } = {}) {
  let now = 1_000_000;
  const reads = { count: 0 };
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const subscriptions = new SubscriptionRouter({
    databaseUrl: serviceUrls.postgres,
    ttlSeconds: TTL_SECONDS,
    wakeQueue: null,
    now: () => now,
    load: (db) => {
      reads.count += 1;
      // A read whose request was cancelled: it never finishes.
      if (reads.count === options.hangOnRead) return new Promise(() => {});
      // A slow read: it reads the table only once the test releases it.
      if (reads.count === options.holdRead) return held.then(() => loadRoutableSubscriptions(db));
      return loadRoutableSubscriptions(db);
    },
  });
  return { subscriptions, reads, advance: (ms: number) => (now += ms), release };
}

async function newSubscription() {
  if (!sql) throw new Error("no database");
  return createSubscription(sql, {
    url: "https://hooks.example.org/edgebus",
    description: "subscription-router test",
    filter: { type: [`test.router.${crypto.randomUUID()}`] },
    fields: null,
    rate_limit: null,
    owner_key_id: OWNER,
    secret: `whsec_${"a".repeat(32)}`,
  });
}

const ids = (list: readonly { id: string }[]) => list.map((s) => s.id);

describe.skipIf(!sql)("SubscriptionRouter (real Postgres)", () => {
  afterAll(async () => {
    if (!sql) return;
    await sql`delete from edgebus.webhook_subscriptions where owner_key_id = ${OWNER}`;
    await sql.end();
  });

  it("reads the table once per TTL; requests arriving during a refresh use the previous list", async () => {
    const { subscriptions, reads, advance } = router();
    const first = await subscriptions.current();
    expect(reads.count).toBe(1);
    await subscriptions.current();
    expect(reads.count).toBe(1);

    const created = await newSubscription();
    advance(TTL_SECONDS * 1000);
    const lists = await Promise.all(Array.from({ length: 8 }, () => subscriptions.current()));
    expect(reads.count).toBe(1 + 1);
    // The request that refreshed sees the new subscription; the seven that arrived meanwhile the previous list.
    expect(ids(lists[0] ?? [])).toContain(created.id);
    for (const list of lists.slice(1)) expect(list).toBe(first);
    expect(ids(await subscriptions.current())).toContain(created.id);
    expect(reads.count).toBe(2);
  });

  it("a refresh that never finishes holds the others back for REFRESH_WAIT_MS at most", async () => {
    const { subscriptions, reads, advance } = router({ hangOnRead: 2 });
    const first = await subscriptions.current();
    advance(TTL_SECONDS * 1000);
    void subscriptions.current();
    expect(reads.count).toBe(2);
    expect(await subscriptions.current()).toBe(first);
    advance(REFRESH_WAIT_MS);
    const created = await newSubscription();
    expect(ids(await subscriptions.current())).toContain(created.id);
    expect(reads.count).toBe(3);
  });

  it("after invalidate() the next request reads the table, and a read begun before it does not replace the list", async () => {
    const { subscriptions, reads, advance, release } = router({ holdRead: 2 });
    await subscriptions.current();
    advance(TTL_SECONDS * 1000);
    const before = subscriptions.current();
    const created = await newSubscription();
    subscriptions.invalidate();
    const after = await subscriptions.current();
    expect(ids(after)).toContain(created.id);
    // The read begun before the change finishes last; its list is not kept.
    release();
    await before;
    expect(await subscriptions.current()).toBe(after);
    expect(reads.count).toBe(3);
  });
});
