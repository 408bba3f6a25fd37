/**
 * Replay determinism of citizen_refs: the same events applied in version order one by one (how
 * they first arrived) and all together in one batch (how an archive replay into an emptied table
 * delivers them) leave identical rows — every column except `last_synced_at`, the time of the
 * write. A tombstone used to keep the versions of verifications applied before the deletion, so
 * the two paths differed in `*_verified_version`.
 */
import { afterAll, describe, expect, it } from "vitest";
import { migratedTestDatabase, randomCitizenId } from "../../../test/support/migrated-database.ts";
import { applyCitizenChanges, type CitizenChange } from "./citizen-refs-store.ts";

const sql = await migratedTestDatabase("shared/db/citizen-refs-replay");

function history(citizenId: number): CitizenChange[] {
  const base = { source: "/identity", citizenId };
  const snapshot = {
    name: "Amina",
    email: "amina@example.org",
    phone: "+35312345678",
    address: { line1: "1 Main St", city: "Cork", postal_code: "T12 X1", country: "IE" },
    preferred_language: "en",
    email_verified: false,
    identity_verified: false,
  };
  return [
    { ...base, kind: "snapshot", key: "c", id: `c-${citizenId}`, version: 1, snapshot },
    { ...base, kind: "verified", key: "e", id: `e-${citizenId}`, version: 2, verification: "email" },
    { ...base, kind: "verified", key: "p", id: `p-${citizenId}`, version: 3, verification: "phone" },
    { ...base, kind: "deleted", key: "d", id: `d-${citizenId}`, version: 4, deletedAt: "2026-09-30T08:00:00Z" },
  ];
}

describe.skipIf(!sql)("citizen_refs replay determinism (real Postgres)", () => {
  const db = sql as NonNullable<typeof sql>;
  afterAll(async () => {
    await db.end({ timeout: 5 });
  });

  const rowOf = async (citizenId: number) => {
    const [row] = await db`select * from permits.citizen_refs where citizen_id = ${citizenId}`;
    const { last_synced_at: _written, citizen_id: _id, last_event_id, ...rest } = row as Record<string, unknown>;
    return { ...rest, last_event: String(last_event_id).split("-")[0] };
  };

  it("one by one in version order and all in one batch give the same tombstone", async () => {
    const sequential = randomCitizenId();
    for (const change of history(sequential)) {
      await applyCitizenChanges(db, "permits", `test-${crypto.randomUUID()}`, [change]);
    }
    const batched = randomCitizenId();
    await applyCitizenChanges(db, "permits", `test-${crypto.randomUUID()}`, history(batched).reverse());
    const expected = await rowOf(sequential);
    expect(expected).toMatchObject({
      deleted_at: new Date("2026-09-30T08:00:00Z"),
      email_verified: false,
      email_verified_version: "0",
      phone_verified_version: "0",
      event_version: "4",
      last_event: "d",
    });
    expect(await rowOf(batched)).toEqual(expected);
  });
});
