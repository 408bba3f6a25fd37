/**
 * The government design's three citizen events (test/fixtures/seed-events/), upcast by the
 * producer's steps (parse → upcast → normalise), into `permits.citizen_refs` through the real queue
 * dispatch: the free-text address is stored as `{"text": …}` in the jsonb column, the phone in
 * E.164, and the row is the same in either arrival order. Each test uses its own citizen id (the
 * database is shared), otherwise the events are the fixtures.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { governmentCatalogue } from "../../../schemas/index.ts";
import created from "../../../test/fixtures/seed-events/citizen.created.json" with { type: "json" };
import updated from "../../../test/fixtures/seed-events/citizen.updated.json" with { type: "json" };
import verified from "../../../test/fixtures/seed-events/citizen.verified.json" with { type: "json" };
import {
  SEED_CITIZEN_EVENT_VERSION,
  SEED_CITIZEN_SNAPSHOT,
} from "../../../test/fixtures/seed-events/expected-citizen.ts";
import { queueMessage, queueWorker } from "../../../test/support/queue-delivery.ts";
import { parseSingleEvent } from "../../producer/src/envelope/http-binding.ts";
import { normaliseEvent } from "../../producer/src/envelope/normalise.ts";
import { upcastEvent } from "../../producer/src/envelope/upcast.ts";

const QUEUE = "permits-citizen-sync";
const bindings = env as unknown as { HYPERDRIVE: Hyperdrive };
const worker = queueWorker(exports);
const available = inject("postgresAvailable");

const randomCitizenId = () => 1_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000);

/** A fixture for citizen `id` with a fresh event id, through the producer's steps. */
function published(fixture: { event_id: string; data: { citizen_id: number } }, id: number) {
  const event = structuredClone(fixture) as {
    event_id: string;
    data: { citizen_id: number; snapshot?: { id: number } };
  };
  event.event_id = `${fixture.event_id}-${id}`;
  event.data.citizen_id = id;
  if (event.data.snapshot) event.data.snapshot.id = id;
  const incoming = parseSingleEvent(new Headers({ "content-type": "application/json" }), JSON.stringify(event), {
    missingSource: () => "/auth-service",
  });
  const { attributes } = upcastEvent(incoming, governmentCatalogue);
  return normaliseEvent(attributes, governmentCatalogue, { mode: incoming.mode });
}

async function row(citizenId: number) {
  const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
  const [found] = await sql`
    select name, email, phone, address, email_verified, identity_verified, event_version::int as event_version
    from permits.citizen_refs where citizen_id = ${citizenId}`;
  return found;
}

const EXPECTED = { ...SEED_CITIZEN_SNAPSHOT, event_version: SEED_CITIZEN_EVENT_VERSION };

describe.skipIf(!available)("the design's citizen events into citizen_refs (workerd, real Postgres)", () => {
  it("created (1), updated (5), verified (6): the address text is kept, the phone in E.164", async () => {
    const id = randomCitizenId();
    const first = await worker.queue(QUEUE, [queueMessage(published(created, id))]);
    expect(first.explicitAcks).toHaveLength(1);
    expect(await row(id)).toMatchObject({
      phone: "+15550123",
      address: { text: "456 Main St, Springfield" },
      email_verified: false,
      event_version: 1,
    });
    for (const fixture of [updated, verified]) await worker.queue(QUEUE, [queueMessage(published(fixture, id))]);
    expect(await row(id)).toEqual(EXPECTED);
  });

  it("in reverse order: the early verification is retried, the row ends the same", async () => {
    const id = randomCitizenId();
    const early = queueMessage(published(verified, id));
    const unknown = await worker.queue(QUEUE, [early]);
    expect(unknown.retryMessages.map((m) => m.msgId)).toEqual([early.id]);
    expect(await row(id)).toBeUndefined();
    await worker.queue(QUEUE, [queueMessage(published(updated, id))]);
    const stale = await worker.queue(QUEUE, [queueMessage(published(created, id))]);
    expect(stale.explicitAcks).toHaveLength(1);
    const redelivered = await worker.queue(QUEUE, [{ ...early, attempts: 2 }]);
    expect(redelivered.explicitAcks).toEqual([early.id]);
    expect(await row(id)).toEqual(EXPECTED);
  });
});
