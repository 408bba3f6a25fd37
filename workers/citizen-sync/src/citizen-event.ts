/**
 * Turns a queue message body into a `CitizenChange`, or says why it is poison: not a CloudEvent,
 * not a `gov.auth.citizen.*` type this consumer applies, no usable `eventversion`, or `data`
 * the catalogue rejects. Poison goes to the DLQ; retrying cannot make it valid.
 */

import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { governmentCatalogue } from "../../../schemas/index.ts";
import type { CitizenChange, CitizenSnapshot } from "./citizen-refs-store.ts";

export const CITIZEN_EVENT_TYPES = [
  "gov.auth.citizen.created",
  "gov.auth.citizen.updated",
  "gov.auth.citizen.deleted",
  "gov.auth.citizen.verified",
] as const;

export type ParsedCitizenEvent = { ok: true; change: CitizenChange } | { ok: false; error: EdgebusError };

const permanent = (
  code: "invalid_envelope" | "unknown_event_type" | "schema_validation_failed",
  message: string,
  details?: unknown,
) => ({ ok: false, error: new EdgebusError(code, message, { retryable: false, details }) }) as const;

function isCloudEvent(body: unknown): body is CloudEventRecord {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const event = body as Record<string, unknown>;
  return (
    event.specversion === "1.0" &&
    typeof event.id === "string" &&
    event.id.length > 0 &&
    typeof event.source === "string" &&
    event.source.length > 0 &&
    typeof event.type === "string"
  );
}

export function parseCitizenEvent(messageId: string, body: unknown): ParsedCitizenEvent {
  if (!isCloudEvent(body)) return permanent("invalid_envelope", "message body is not a CloudEvents 1.0 record");
  const type = body.type as (typeof CITIZEN_EVENT_TYPES)[number];
  if (!CITIZEN_EVENT_TYPES.includes(type))
    return permanent("unknown_event_type", `citizen-sync does not handle events of type ${body.type}`);
  const version = body.eventversion;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1)
    return permanent("invalid_envelope", "citizen events need a positive integer eventversion for ordering");
  const validation = governmentCatalogue.validateData(type, body.data);
  if (!validation.ok)
    return permanent("schema_validation_failed", `data does not match ${type}`, { issues: validation.issues });

  const base = { key: messageId, source: body.source, id: body.id, version };
  switch (type) {
    case "gov.auth.citizen.created":
    case "gov.auth.citizen.updated": {
      const data = validation.data as CitizenSnapshot & { id: number; preferred_language?: string };
      const snapshot: CitizenSnapshot = {
        name: data.name,
        email: data.email,
        phone: data.phone,
        address: data.address,
        preferred_language: data.preferred_language ?? null,
        email_verified: data.email_verified,
        identity_verified: data.identity_verified,
      };
      return { ok: true, change: { ...base, kind: "snapshot", citizenId: data.id, snapshot } };
    }
    case "gov.auth.citizen.deleted": {
      const data = validation.data as { id: number; deleted_at: string };
      return { ok: true, change: { ...base, kind: "deleted", citizenId: data.id, deletedAt: data.deleted_at } };
    }
    case "gov.auth.citizen.verified": {
      const data = validation.data as { id: number; verification_type: "email" | "phone" | "identity" | "address" };
      return {
        ok: true,
        change: { ...base, kind: "verified", citizenId: data.id, verification: data.verification_type },
      };
    }
  }
}
