/**
 * `seed-v1`: the citizen events as services built to the government's event-driven design send
 * them (its Avro schema `gov.auth.citizen.v1` and its JSON examples), mapped to the catalogue's
 * current shape. docs/seed-events.md shows the two forms side by side; the fixtures are in
 * test/fixtures/seed-events/.
 *
 * The form is recognised by `data.citizen_id`, which the current citizen events never have (they
 * name the citizen `id`). The envelope is the legacy one (`workers/producer/src/envelope/legacy.ts`); the
 * short `event_type` is an alias of the catalogue (`citizen.created`, declared in `../auth.ts`),
 * and a missing `source` is the publishing key's only source (the producer's parsing).
 *
 * | seed-v1                                          | current shape                                              |
 * | ------------------------------------------------ | ---------------------------------------------------------- |
 * | `source.service` without a leading `/`           | `source` = `/<service>` (instance, version: `sourceinstance`, `sourceversion`) |
 * | `data.citizen_id` + `data.snapshot.{…}`          | the snapshot's fields in `data`; `citizen_id` must equal `snapshot.id` |
 * | `snapshot.address` (free text)                   | `address: {text}` (the text as written)                    |
 * | `snapshot.phone` (`+1-555-0123`)                 | E.164 (`+15550123`) when unambiguous, refused otherwise (`e164.ts`) |
 * | `created`: `snapshot.created_at` missing         | the event's time                                           |
 * | `updated`: no `updated_at`                       | `updated_at` = the event's time                            |
 * | `updated`: `changes` null or missing             | `changes: {}`                                              |
 * | `changes.<field>` `{old, new}` or `{old_value, new_value}` (Avro) | `{old, new}`, values in the field's current form (phone E.164, address `{text}`, `"true"`/`"false"` → booleans) |
 * | `verified`: `data.citizen_id`                    | `data.id`                                                  |
 * | `verified`: `verified_by` `employee_<n>`         | `EMP-<n, six digits>` (`employee_456` → `EMP-000456`)      |
 * | `verified`: `verified_at` missing                | the event's time                                           |
 * | `verified`: `document_reference` missing         | `null`                                                     |
 *
 * "The event's time" is its `timestamp` (CloudEvents `time`), or the time of receipt when it has
 * none. Every refusal is a 422 naming the field as the sender wrote it (`data.snapshot.phone`).
 */
import { type DataIssue, formatPath, MAX_REPORTED_ISSUES } from "#shared/catalogue/data-issues.ts";
import {
  type EventUpcaster,
  PathRelocations,
  type UpcastInput,
  type UpcastResult,
} from "#shared/catalogue/upcaster.ts";
import { toE164 } from "./e164.ts";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const FORM = {
  form: "seed",
  formVersion: 1,
  description:
    "Services built to the government's event-driven design (Avro gov.auth.citizen.v1 and its JSON examples): data.citizen_id with a data.snapshot of the citizen, free-text addresses, phones as written.",
} as const;

/** Fields a seed snapshot may hold (the Avro `CitizenSnapshot`, the examples' `created_at`, the catalogue's language). */
const SNAPSHOT_FIELDS: readonly string[] = [
  "id",
  "name",
  "email",
  "phone",
  "address",
  "email_verified",
  "identity_verified",
  "created_at",
  "preferred_language",
];

const BOOLEAN_FIELDS: readonly string[] = ["email_verified", "identity_verified"];

/** The design's staff ids (`employee_456`); the catalogue's are `EMP-000456`. */
const SEED_EMPLOYEE = /^employee_([0-9]{1,6})$/;

/**
 * Sets an own, enumerable property, whatever its name: `obj["__proto__"] = …` would set the
 * prototype instead, and the current schema would never see (nor refuse) the sender's field.
 */
function put(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Recognised by `data.citizen_id`: the current citizen events name the citizen `id`. */
function recognises(data: unknown): boolean {
  return isObject(data) && Object.hasOwn(data, "citizen_id");
}

/** Collects the mapped fields' problems and where each current path came from. */
class Mapping {
  readonly issues: DataIssue[] = [];
  readonly relocations = new PathRelocations();

  readonly input: UpcastInput;

  constructor(input: UpcastInput) {
    this.input = input;
  }

  issue(path: string, message: string): void {
    if (this.issues.length < MAX_REPORTED_ISSUES) this.issues.push({ path, message });
  }

  phone(value: unknown, written: string): unknown {
    if (typeof value !== "string") return value;
    const e164 = toE164(value);
    if (e164.ok) return e164.value;
    this.issue(written, `cannot be written in E.164: it ${e164.reason}`);
    return value;
  }

  /** Free text → `{text}`; `null` and a structured address pass unchanged (the schema judges them). */
  address(value: unknown, current: string, written: string): unknown {
    if (typeof value !== "string") return value;
    this.relocations.add(`${current}.text`, written);
    return { text: value };
  }

  /** A value of `field` in the field's current form (changes carry old and new values). */
  fieldValue(field: string, value: unknown, current: string, written: string): unknown {
    if (field === "phone") return this.phone(value, written);
    if (field === "address") return this.address(value, current, written);
    if (BOOLEAN_FIELDS.includes(field) && (value === "true" || value === "false")) return value === "true";
    return value;
  }

  /** The seed names a service; the catalogue's sources are paths. */
  source(): string | undefined {
    const { source, sourceGivenAs } = this.input;
    return sourceGivenAs === "service" && !source.startsWith("/") ? `/${source}` : undefined;
  }

  result(data: Json | undefined): UpcastResult {
    if (this.issues.length > 0 || data === undefined) return { ok: false, issues: this.issues };
    const source = this.source();
    return { ok: true, data, pathOf: this.relocations.pathOf, ...(source === undefined ? {} : { source }) };
  }
}

function refuseUnknownFields(m: Mapping, data: Json, known: readonly string[]): void {
  for (const key of Object.keys(data)) if (!known.includes(key)) m.issue(formatPath("data", [key]), "unknown field");
}

/** `data.snapshot` → the citizen's fields at the top of `data`. */
function citizenOf(m: Mapping, data: Json): Json | undefined {
  const snapshot = data.snapshot;
  if (!isObject(snapshot)) {
    m.issue(
      "data.snapshot",
      snapshot === undefined
        ? "required field is missing (object): the citizen's snapshot"
        : "must be an object: the citizen's snapshot",
    );
    return undefined;
  }
  if (!Object.hasOwn(snapshot, "id")) {
    m.issue("data.snapshot.id", "required field is missing (number): the citizen id, equal to data.citizen_id");
  } else if (snapshot.id !== data.citizen_id) {
    m.issue("data.citizen_id", "must equal data.snapshot.id (both name the citizen)");
  }
  const citizen: Json = {};
  for (const [key, value] of Object.entries(snapshot)) {
    const written = formatPath("data", ["snapshot", key]);
    if (!SNAPSHOT_FIELDS.includes(key)) {
      m.issue(written, "unknown field");
      continue;
    }
    const current = formatPath("data", [key]);
    m.relocations.add(current, written);
    put(citizen, key, m.fieldValue(key, value, current, written));
  }
  return citizen;
}

/** `changes` (null, `{old, new}` or Avro's `{old_value, new_value}` per field) → `{old, new}` per field. */
function changesOf(m: Mapping, changes: unknown): Json {
  if (changes === undefined || changes === null) return {};
  if (!isObject(changes)) {
    m.issue("data.changes", "must be an object of changed fields, each {old, new} or {old_value, new_value}");
    return {};
  }
  const mapped: Json = {};
  for (const [field, change] of Object.entries(changes)) {
    const path = formatPath("data", ["changes", field]);
    if (field === "__proto__") {
      m.issue(path, "unknown field"); // zod's records drop this key without a word
      continue;
    }
    if (!isObject(change)) {
      put(mapped, field, change); // the current schema names the problem
      continue;
    }
    const avro = Object.hasOwn(change, "old_value") || Object.hasOwn(change, "new_value");
    if (avro && (Object.hasOwn(change, "old") || Object.hasOwn(change, "new"))) {
      m.issue(path, "holds both {old, new} and {old_value, new_value}; send one of the two");
      continue;
    }
    const names = avro ? (["old_value", "new_value"] as const) : (["old", "new"] as const);
    for (const key of Object.keys(change)) {
      if (!(names as readonly string[]).includes(key)) m.issue(formatPath(path, [key]), "unknown field");
    }
    const out: Json = {};
    for (const [index, name] of names.entries()) {
      if (!Object.hasOwn(change, name)) continue;
      const target = index === 0 ? "old" : "new";
      const current = formatPath(path, [target]);
      const written = formatPath(path, [name]);
      m.relocations.add(current, written);
      out[target] = m.fieldValue(field, change[name], current, written);
    }
    put(mapped, field, out);
  }
  return mapped;
}

export const citizenCreatedFromSeedV1: EventUpcaster = {
  ...FORM,
  recognises,
  upcast(input) {
    const m = new Mapping(input);
    const data = input.data as Json;
    refuseUnknownFields(m, data, ["citizen_id", "snapshot", "changes"]);
    if (data.changes !== undefined && data.changes !== null) {
      m.issue("data.changes", "must be null or absent: a created citizen has no earlier values");
    }
    const citizen = citizenOf(m, data);
    if (citizen !== undefined && citizen.created_at === undefined) citizen.created_at = input.time;
    return m.result(citizen);
  },
  example: {
    citizen_id: 123,
    snapshot: {
      id: 123,
      name: "Maria Garcia",
      email: "maria@email.com",
      phone: "+1-555-0123",
      address: "456 Main St, Springfield",
      email_verified: false,
      identity_verified: false,
      created_at: "2024-01-15T10:30:00Z",
    },
  },
};

export const citizenUpdatedFromSeedV1: EventUpcaster = {
  ...FORM,
  recognises,
  upcast(input) {
    const m = new Mapping(input);
    const data = input.data as Json;
    refuseUnknownFields(m, data, ["citizen_id", "snapshot", "changes"]);
    const citizen = citizenOf(m, data);
    const changes = changesOf(m, data.changes);
    return m.result(citizen === undefined ? undefined : { ...citizen, updated_at: input.time, changes });
  },
  example: {
    citizen_id: 123,
    changes: {
      phone: { old: "+1-555-0123", new: "+1-555-0199" },
      address: { old: "456 Main St, Springfield", new: "789 Oak Ave, Springfield" },
    },
    snapshot: {
      id: 123,
      name: "Maria Garcia",
      email: "maria@email.com",
      phone: "+1-555-0199",
      address: "789 Oak Ave, Springfield",
      email_verified: true,
      identity_verified: true,
    },
  },
};

export const citizenVerifiedFromSeedV1: EventUpcaster = {
  ...FORM,
  recognises,
  upcast(input) {
    const m = new Mapping(input);
    const { citizen_id, ...rest } = input.data as Json;
    if (Object.hasOwn(rest, "id")) m.issue("data.id", "unknown field: the seed form names the citizen data.citizen_id");
    const verification: Json = { id: citizen_id };
    m.relocations.add("data.id", "data.citizen_id");
    for (const [key, value] of Object.entries(rest)) {
      if (key === "id") continue;
      put(verification, key, value);
    }
    const staff = typeof rest.verified_by === "string" ? SEED_EMPLOYEE.exec(rest.verified_by) : null;
    if (staff?.[1] !== undefined) verification.verified_by = `EMP-${staff[1].padStart(6, "0")}`;
    if (!Object.hasOwn(rest, "document_reference")) verification.document_reference = null;
    if (!Object.hasOwn(rest, "verified_at")) verification.verified_at = input.time;
    return m.result(verification);
  },
  example: {
    citizen_id: 123,
    verification_type: "identity",
    verified_by: "employee_456",
    verification_method: "in_person",
    document_reference: "doc_789",
  },
};
