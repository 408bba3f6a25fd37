/**
 * The citizen directory over a client configured as the Worker's (`openDatabase`: no fetched
 * types). A batch's recipients are read ahead in one query, and the reads after it cost nothing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { serviceUrls } from "../../../../scripts/service-probe.ts";
import { migratedTestDatabase, randomCitizenId } from "../../../../test/support/migrated-database.ts";
import { PostgresCitizenDirectory } from "./postgres-citizen-directory.ts";

const admin = await migratedTestDatabase("workers/notifier/postgres-citizen-directory");
const sql = admin ? openDatabase(serviceUrls.postgres, { max: 1 }) : undefined;
afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await admin?.end({ timeout: 5 });
});

describe.skipIf(!admin)("PostgresCitizenDirectory (real Postgres, the Worker's client settings)", () => {
  it("reads a batch's citizens in one query; finding them afterwards costs no statement", async () => {
    const db = admin as NonNullable<typeof admin>;
    const [known, deleted, unknown] = [randomCitizenId(), randomCitizenId(), randomCitizenId()];
    await db`
      insert into permits.citizen_refs (citizen_id, name, email, phone, preferred_language, event_version,
        last_event_id, last_event_source, deleted_at)
      values (${known}, 'Amina Haddad', 'amina@haddad.ie', null, 'fr', 1, 'e1', '/test/directory', null),
             (${deleted}, null, null, null, null, 2, 'e2', '/test/directory', now())`;
    let statements = 0;
    const counted = new Proxy(sql as NonNullable<typeof sql>, {
      apply(target, self, args) {
        // A tagged template is a statement; `sql("permits")` (an identifier) is not.
        if (Array.isArray(args[0]) && "raw" in args[0]) statements++;
        return Reflect.apply(target, self, args);
      },
    });
    const directory = new PostgresCitizenDirectory(counted);
    await directory.prefetch("permits", [known, deleted, unknown, known]);
    expect(statements).toBe(1);
    expect(await directory.find("permits", known)).toEqual({
      state: "known",
      contact: { name: "Amina Haddad", email: "amina@haddad.ie", phone: null, preferredLanguage: "fr" },
    });
    expect(await directory.find("permits", deleted)).toEqual({ state: "deleted" });
    expect(await directory.find("permits", unknown)).toEqual({ state: "unknown" });
    expect(statements).toBe(1);
    // A citizen not read ahead is looked up alone.
    expect(await directory.find("permits", randomCitizenId())).toEqual({ state: "unknown" });
    expect(statements).toBe(2);
  });
});
