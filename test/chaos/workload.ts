/**
 * The chaos load: a realistic mix of events grouped into per-key sequences that must be sent in
 * order (one citizen's created → updated… → maybe deleted with increasing `eventversion`; one
 * permit application or payment per key). Deterministic for a seed, so a failing run can be
 * repeated.
 */
import { governmentCatalogue } from "../../schemas/index.ts";

export type EventKind = "citizen" | "permit" | "payment";

export interface PlannedEvent {
  readonly kind: EventKind;
  /** The record key in Kafka (`partitionkey`): the citizen, application or payment id. */
  readonly key: string;
  /** Structured-mode CloudEvent as sent. */
  readonly event: Record<string, unknown> & { id: string; source: string; type: string };
  /** Sends an email (citizen welcome, permit submitted, payment receipt). */
  readonly notifiesByEmail: boolean;
}

/** Events of one key, in the order they must be sent. */
export interface KeySequence {
  readonly key: string;
  readonly events: readonly PlannedEvent[];
}

export interface Workload {
  readonly sequences: readonly KeySequence[];
  readonly total: number;
}

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Amina", "Liam", "Saoirse", "Oisín", "Chloé", "Mateo", "Ngozi", "Piotr", "Aoife", "Yusuf"];
const LAST = ["Haddad", "Murphy", "O'Brien", "Kowalski", "Dubois", "Okafor", "Byrne", "García", "Walsh", "Nowak"];
const CITIES = ["Dublin", "Cork", "Galway", "Limerick", "Waterford"];

function example(type: string): Record<string, unknown> {
  const definition = governmentCatalogue.get(type);
  if (!definition) throw new Error(`${type} is not in the catalogue`);
  return structuredClone(definition.example) as Record<string, unknown>;
}

/** The types of the workload that send an email (citizen welcome, permit submitted, payment receipt). */
const EMAIL_ON = new Set([
  "gov.auth.citizen.created",
  "gov.permits.application.submitted",
  "gov.revenue.payment.completed",
]);

function isoAt(base: number, offsetSeconds: number): string {
  return new Date(base + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * About `total` events: 60 % citizen events (sequences of 2–6, a fifth ending in `deleted`),
 * 20 % permit applications submitted, 20 % payments completed. `runTag` keeps ids unique across
 * runs that share Redis.
 */
export function planWorkload(total: number, seed: number, runTag: string): Workload {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const base = Date.parse("2026-06-01T08:00:00Z");
  const citizenBase = 100_000 + Math.floor(random() * 800_000) * 10;
  const sequences: KeySequence[] = [];
  let count = 0;
  let citizenN = 0;
  let permitN = 0;
  let paymentN = 0;
  const id = (n: number) => `${runTag}-${n.toString(36).padStart(6, "0")}`;
  /** The next event of the run (ids count up in planning order). */
  const planned = (
    kind: EventKind,
    key: string,
    envelope: { source: string; type: string; time: string; eventversion?: number },
    data: Record<string, unknown>,
  ): PlannedEvent => ({
    kind,
    key,
    notifiesByEmail: EMAIL_ON.has(envelope.type),
    event: {
      specversion: "1.0",
      id: id(count++),
      source: envelope.source,
      type: envelope.type,
      time: envelope.time,
      ...(envelope.eventversion === undefined ? {} : { eventversion: envelope.eventversion }),
      datacontenttype: "application/json",
      data,
    },
  });

  while (count < total) {
    const roll = random();
    if (roll < 0.6) {
      const citizenId = citizenBase + citizenN++;
      const key = String(citizenId);
      const length = Math.min(total - count, 2 + Math.floor(random() * 5));
      const deleted = length >= 3 && random() < 0.2;
      let snapshot = {
        id: citizenId,
        name: `${pick(FIRST)} ${pick(LAST)}`,
        email: `c${citizenId}@example.org`,
        phone: random() < 0.5 ? `+3538${String(citizenId).padStart(8, "0").slice(-8)}` : null,
        address: {
          line1: `${1 + Math.floor(random() * 200)} Main Street`,
          city: pick(CITIES),
          postal_code: "D02 X285",
          country: "IE",
        },
        email_verified: random() < 0.5,
        identity_verified: false,
        created_at: isoAt(base, citizenN),
        preferred_language: random() < 0.2 ? "fr" : "en",
      };
      const events: PlannedEvent[] = [];
      for (let version = 1; version <= length; version++) {
        let type: string;
        let data: Record<string, unknown>;
        if (version === 1) {
          type = "gov.auth.citizen.created";
          data = snapshot;
        } else if (deleted && version === length) {
          type = "gov.auth.citizen.deleted";
          data = {
            id: citizenId,
            deleted_at: isoAt(base, 86_400 + version),
            reason: "citizen_request",
            deleted_by: "system",
          };
        } else {
          type = "gov.auth.citizen.updated";
          const name = `${pick(FIRST)} ${pick(LAST)} v${version}`;
          const changes = { name: { old: snapshot.name, new: name } };
          snapshot = { ...snapshot, name };
          data = { ...snapshot, updated_at: isoAt(base, 3600 * version), changes };
        }
        events.push(
          planned(
            "citizen",
            key,
            { source: "/services/identity", type, time: isoAt(base, version), eventversion: version },
            data,
          ),
        );
      }
      sequences.push({ key, events });
    } else if (roll < 0.8) {
      const application = `PA-2026-${String((seed * 7919 + permitN++) % 1_000_000).padStart(6, "0")}`;
      const data = {
        ...example("gov.permits.application.submitted"),
        application_id: application,
        citizen_id: citizenBase + permitN,
        applicant: { name: `${pick(FIRST)} ${pick(LAST)}`, email: `p${permitN}.${runTag}@example.org` },
      };
      const event = planned(
        "permit",
        application,
        { source: "/services/permits", type: "gov.permits.application.submitted", time: isoAt(base, 600 + permitN) },
        data,
      );
      sequences.push({ key: application, events: [event] });
    } else {
      const payment = `PAY-2026-${String((seed * 104_729 + paymentN++) % 100_000_000).padStart(8, "0")}`;
      const data = {
        ...example("gov.revenue.payment.completed"),
        payment_id: payment,
        citizen_id: citizenBase + paymentN,
        payer: { name: `${pick(FIRST)} ${pick(LAST)}`, email: `r${paymentN}.${runTag}@example.org` },
      };
      const event = planned(
        "payment",
        payment,
        { source: "/services/revenue", type: "gov.revenue.payment.completed", time: isoAt(base, 900 + paymentN) },
        data,
      );
      sequences.push({ key: payment, events: [event] });
    }
  }
  return { sequences, total: count };
}
