import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratedTestDatabase, randomCitizenId } from "../../../test/support/migrated-database.ts";
import { applyCitizenChanges, type CitizenChange, type CitizenSnapshot } from "./citizen-refs-store.ts";

const sql = await migratedTestDatabase("shared/db/citizen-refs-store");
const consumer = `test-citizen-sync-${crypto.randomUUID()}`;

const snapshot = (name: string, overrides: Partial<CitizenSnapshot> = {}): CitizenSnapshot => ({
  name,
  email: `${name.toLowerCase()}@example.org`,
  phone: "+35312345678",
  address: { line1: "1 Main St", city: "Cork", postal_code: "T12 X1", country: "IE" },
  preferred_language: "en",
  email_verified: false,
  identity_verified: false,
  ...overrides,
});

let seq = 0;
function change<K extends CitizenChange["kind"]>(
  kind: K,
  citizenId: number,
  version: number,
  rest: Omit<Extract<CitizenChange, { kind: K }>, "kind" | "key" | "source" | "id" | "citizenId" | "version">,
  id = `evt-${crypto.randomUUID()}`,
): CitizenChange {
  return { kind, key: `m${++seq}`, source: "/identity", id, citizenId, version, ...rest } as unknown as CitizenChange;
}

async function row(citizenId: number) {
  const [found] = await (sql as NonNullable<typeof sql>)`
    select name, email, email_verified, identity_verified, phone_verified, event_version::int as version,
           deleted_at is not null as deleted, last_event_id
    from permits.citizen_refs where citizen_id = ${citizenId}`;
  return found;
}

describe.skipIf(!sql)("applyCitizenChanges (real Postgres)", () => {
  const db = sql as NonNullable<typeof sql>;
  beforeAll(() => {});
  afterAll(async () => {
    await db.end({ timeout: 5 });
  });

  it("upserts a snapshot and ignores a redelivery of the same event", async () => {
    const id = randomCitizenId();
    const created = change("snapshot", id, 1, { snapshot: snapshot("Amina") });
    expect(await applyCitizenChanges(db, "permits", consumer, [created])).toEqual(new Map([[created.key, "applied"]]));
    const again = { ...created, key: "again" };
    expect(await applyCitizenChanges(db, "permits", consumer, [again])).toEqual(new Map([["again", "duplicate"]]));
    expect(await row(id)).toMatchObject({ name: "Amina", version: 1, deleted: false });
  });

  it("collapses a batch to the newest version per citizen, whatever the order", async () => {
    const id = randomCitizenId();
    const v3 = change("snapshot", id, 3, { snapshot: snapshot("Third") });
    const v1 = change("snapshot", id, 1, { snapshot: snapshot("First") });
    const v2 = change("snapshot", id, 2, { snapshot: snapshot("Second") });
    const results = await applyCitizenChanges(db, "permits", consumer, [v3, v1, v2]);
    expect(results).toEqual(
      new Map([
        [v3.key, "applied"],
        [v1.key, "stale"],
        [v2.key, "stale"],
      ]),
    );
    expect(await row(id)).toMatchObject({ name: "Third", version: 3, last_event_id: v3.id });
  });

  it("ignores an older version arriving in a later batch", async () => {
    const id = randomCitizenId();
    await applyCitizenChanges(db, "permits", consumer, [change("snapshot", id, 5, { snapshot: snapshot("New") })]);
    const late = change("snapshot", id, 4, { snapshot: snapshot("Old") });
    expect(await applyCitizenChanges(db, "permits", consumer, [late])).toEqual(new Map([[late.key, "stale"]]));
    expect(await row(id)).toMatchObject({ name: "New", version: 5 });
  });

  it("writes a tombstone that a stale update cannot resurrect; a tombstone for an unknown citizen sticks", async () => {
    const id = randomCitizenId();
    await applyCitizenChanges(db, "permits", consumer, [change("snapshot", id, 1, { snapshot: snapshot("Gone") })]);
    await applyCitizenChanges(db, "permits", consumer, [
      change("deleted", id, 2, { deletedAt: "2026-09-30T08:00:00Z" }),
    ]);
    const stale = change("snapshot", id, 1, { snapshot: snapshot("Zombie") });
    expect(await applyCitizenChanges(db, "permits", consumer, [stale])).toEqual(new Map([[stale.key, "stale"]]));
    expect(await row(id)).toMatchObject({ name: null, email: null, deleted: true, version: 2 });

    // Newer than the tombstone: a re-creation may be in flight, so it is retried, not dropped.
    const lateVerification = change("verified", id, 5, { verification: "identity" });
    expect(await applyCitizenChanges(db, "permits", consumer, [lateVerification])).toEqual(
      new Map([[lateVerification.key, "unknown-citizen"]]),
    );
    const oldVerification = change("verified", id, 2, { verification: "identity" });
    expect(await applyCitizenChanges(db, "permits", consumer, [oldVerification])).toEqual(
      new Map([[oldVerification.key, "stale"]]),
    );
    expect(await row(id)).toMatchObject({ identity_verified: false, deleted: true, version: 2 });

    const never = randomCitizenId();
    await applyCitizenChanges(db, "permits", consumer, [
      change("deleted", never, 7, { deletedAt: "2026-09-30T08:00:00Z" }),
    ]);
    await applyCitizenChanges(db, "permits", consumer, [change("snapshot", never, 6, { snapshot: snapshot("Late") })]);
    expect(await row(never)).toMatchObject({ name: null, deleted: true, version: 7 });
  });

  it("sets verification flags only for newer versions, merging several in one batch", async () => {
    const id = randomCitizenId();
    await applyCitizenChanges(db, "permits", consumer, [change("snapshot", id, 2, { snapshot: snapshot("Vera") })]);
    const old = change("verified", id, 1, { verification: "email" });
    const identity = change("verified", id, 3, { verification: "identity" });
    const phone = change("verified", id, 4, { verification: "phone" });
    const results = await applyCitizenChanges(db, "permits", consumer, [old, identity, phone]);
    expect(results).toEqual(
      new Map([
        [old.key, "stale"],
        [identity.key, "applied"],
        [phone.key, "applied"],
      ]),
    );
    expect(await row(id)).toMatchObject({
      email_verified: false,
      identity_verified: true,
      phone_verified: true,
      version: 4,
      last_event_id: phone.id,
    });
  });

  it("applies an older update that arrives after a newer verification, keeping the flag", async () => {
    const id = randomCitizenId();
    await applyCitizenChanges(db, "permits", consumer, [change("snapshot", id, 1, { snapshot: snapshot("Old") })]);
    await applyCitizenChanges(db, "permits", consumer, [change("verified", id, 3, { verification: "identity" })]);
    const update = change("snapshot", id, 2, { snapshot: snapshot("Renamed", { identity_verified: false }) });
    expect(await applyCitizenChanges(db, "permits", consumer, [update])).toEqual(new Map([[update.key, "applied"]]));
    expect(await row(id)).toMatchObject({ name: "Renamed", identity_verified: true, version: 3 });
    const newer = change("snapshot", id, 4, { snapshot: snapshot("Newest", { identity_verified: false }) });
    await applyCitizenChanges(db, "permits", consumer, [newer]);
    // A snapshot newer than the verification carries the truth as of its version.
    expect(await row(id)).toMatchObject({ name: "Newest", identity_verified: false, version: 4 });
  });

  it("guards rows written without snapshot_version (before 0008, fixtures) by their event_version", async () => {
    const id = randomCitizenId();
    await db`insert into permits.citizen_refs (citizen_id, name, email, event_version, last_event_id, last_event_source)
             values (${id}, 'Legacy', 'legacy@example.org', 5, 'legacy', '/legacy')`;
    const older = change("snapshot", id, 4, { snapshot: snapshot("Older") });
    expect(await applyCitizenChanges(db, "permits", consumer, [older])).toEqual(new Map([[older.key, "stale"]]));
    const newer = change("snapshot", id, 6, { snapshot: snapshot("Newer") });
    expect(await applyCitizenChanges(db, "permits", consumer, [newer])).toEqual(new Map([[newer.key, "applied"]]));
    expect(await row(id)).toMatchObject({ name: "Newer", version: 6 });
  });

  it("reports a verification of an unknown citizen without recording it, so a retry applies it", async () => {
    const id = randomCitizenId();
    const early = change("verified", id, 2, { verification: "identity" });
    expect(await applyCitizenChanges(db, "permits", consumer, [early])).toEqual(
      new Map([[early.key, "unknown-citizen"]]),
    );
    await applyCitizenChanges(db, "permits", consumer, [change("snapshot", id, 1, { snapshot: snapshot("Early") })]);
    const retried = { ...early, key: "retry" };
    expect(await applyCitizenChanges(db, "permits", consumer, [retried])).toEqual(new Map([["retry", "applied"]]));
    expect(await row(id)).toMatchObject({ identity_verified: true, version: 2 });
  });

  it("writes the revenue read model independently of permits", async () => {
    const id = randomCitizenId();
    const created = change("snapshot", id, 1, { snapshot: snapshot("Rev") });
    expect(await applyCitizenChanges(db, "revenue", `${consumer}-revenue`, [created])).toEqual(
      new Map([[created.key, "applied"]]),
    );
    const [revenue] = await db`select name from revenue.citizen_refs where citizen_id = ${id}`;
    expect(revenue).toMatchObject({ name: "Rev" });
    expect(await row(id)).toBeUndefined();
  });

  it("treats a duplicate inside one batch as a duplicate", async () => {
    const id = randomCitizenId();
    const created = change("snapshot", id, 1, { snapshot: snapshot("Twin") });
    const copy = { ...created, key: "copy" };
    expect(await applyCitizenChanges(db, "permits", consumer, [created, copy])).toEqual(
      new Map([
        ["copy", "duplicate"],
        [created.key, "applied"],
      ]),
    );
  });

  it("stores every column as sent: nulls stay SQL nulls, addresses jsonb, text intact; a tombstone clears them", async () => {
    const [plain, textual, deleted] = [randomCitizenId(), randomCitizenId(), randomCitizenId()];
    const name = `O'Brien "Quote" \\ back\\slash, Zoë 中文 \u{1F600}`;
    const batch = [
      change("snapshot", plain, 1, {
        snapshot: snapshot("Nulls", { phone: null, address: null, preferred_language: null, email_verified: true }),
      }),
      change("snapshot", textual, 1, {
        snapshot: snapshot("Text", { name, address: { text: "456 Main St, Springfield" }, identity_verified: true }),
      }),
      change("snapshot", deleted, 1, { snapshot: snapshot("Gone") }),
      change("deleted", deleted, 2, { deletedAt: "2026-05-02T16:40:00+02:00" }),
    ];
    const results = await applyCitizenChanges(db, "permits", consumer, batch);
    expect(batch.map((sent) => results.get(sent.key))).toEqual(["applied", "applied", "stale", "applied"]);
    const rows = await db`
      select citizen_id::text as id, name, phone, address is null as address_null,
             address = ${JSON.stringify({ text: "456 Main St, Springfield" })}::text::jsonb as address_text, preferred_language,
             email_verified, identity_verified, extract(epoch from deleted_at)::bigint::text as deleted_at
      from permits.citizen_refs where citizen_id in (${plain}, ${textual}, ${deleted}) order by citizen_id`;
    const byId = new Map(rows.map((found) => [Number(found.id), found]));
    expect(byId.get(plain)).toMatchObject({
      phone: null,
      address_null: true,
      preferred_language: null,
      email_verified: true,
      identity_verified: false,
      deleted_at: null,
    });
    expect(byId.get(textual)).toMatchObject({
      name,
      address_text: true,
      preferred_language: "en",
      identity_verified: true,
    });
    expect(byId.get(deleted)).toMatchObject({
      name: null,
      phone: null,
      address_null: true,
      email_verified: false,
      deleted_at: String(Date.parse("2026-05-02T14:40:00Z") / 1000),
    });
  });

  it("tells fresh events from ones already recorded anywhere in the batch", async () => {
    const [a, b, c] = [randomCitizenId(), randomCitizenId(), randomCitizenId()];
    const earlier = change("snapshot", b, 1, { snapshot: snapshot("Earlier") });
    await applyCitizenChanges(db, "permits", consumer, [earlier]);
    const first = change("snapshot", a, 1, { snapshot: snapshot("First") });
    const redelivered = { ...earlier, key: "redelivered" };
    const last = change("snapshot", c, 1, { snapshot: snapshot("Last") });
    // The ledger insert without `on conflict` fails on `redelivered`; the batch runs again with it.
    expect(await applyCitizenChanges(db, "permits", consumer, [first, redelivered, last])).toEqual(
      new Map([
        [first.key, "applied"],
        ["redelivered", "duplicate"],
        [last.key, "applied"],
      ]),
    );
    const ledger = await db`
      select id, count(*)::int as n from edgebus.processed_events
      where consumer = ${consumer} and id in (${first.id}, ${earlier.id}, ${last.id}) group by id`;
    expect(new Map(ledger.map((entry) => [entry.id, entry.n]))).toEqual(
      new Map([
        [first.id, 1],
        [earlier.id, 1],
        [last.id, 1],
      ]),
    );
    expect(await row(a)).toMatchObject({ name: "First", version: 1 });
  });

  it("applies a batch delivered twice at the same time once: the other delivery reports duplicates", async () => {
    const ids = [randomCitizenId(), randomCitizenId(), randomCitizenId()];
    const batch = ids.map((id, n) => change("snapshot", id, 1, { snapshot: snapshot(`Twice${n}`) }));
    const again = batch.map((sent) => ({ ...sent, key: `${sent.key}-again` }));
    const [one, other] = await Promise.all([
      applyCitizenChanges(db, "permits", consumer, batch),
      applyCitizenChanges(db, "permits", consumer, again),
    ]);
    const outcomes = [...batch.map((sent) => one.get(sent.key)), ...again.map((sent) => other.get(sent.key))];
    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(3);
    for (const [n, id] of ids.entries()) expect(await row(id)).toMatchObject({ name: `Twice${n}`, version: 1 });
  });

  it("rolls the whole batch back when a statement fails, leaving no ledger rows", async () => {
    const id = randomCitizenId();
    const good = change("snapshot", id, 1, { snapshot: snapshot("Rollback") });
    // A citizen id beyond bigint makes the insert fail after processed_events was written.
    const bad = change("snapshot", Number.MAX_VALUE, 1, { snapshot: snapshot("Overflow") });
    await expect(applyCitizenChanges(db, "permits", consumer, [good, bad])).rejects.toThrow();
    expect(await row(id)).toBeUndefined();
    const ledger = await db`select 1 from edgebus.processed_events where consumer = ${consumer} and id = ${good.id}`;
    expect(ledger).toHaveLength(0);
  });
});
