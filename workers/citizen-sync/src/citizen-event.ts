/**
 * Turns a queue message body into a `CitizenChange`, or says why it is poison: not a CloudEvent,
 * not a `gov.auth.citizen.*` type this consumer applies, no usable `eventversion`, or `data`
 * the catalogue rejects. Poison goes to the DLQ; retrying cannot make it valid.
 */

import { parseQueuedEvent } from "#shared/envelope/queue-message.ts";
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

export function parseCitizenEvent(messageId: string, body: unknown): ParsedCitizenEvent {
  const decoded = parseQueuedEvent(body);
  if (!decoded.ok) return permanent("invalid_envelope", decoded.reason);
  const event = decoded.event;
  const type = event.type as (typeof CITIZEN_EVENT_TYPES)[number];
  if (!CITIZEN_EVENT_TYPES.includes(type))
    return permanent("unknown_event_type", `citizen-sync does not handle events of type ${event.type}`);
  const version = event.eventversion;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1)
    return permanent("invalid_envelope", "citizen events need a positive integer eventversion for ordering");
  const validation = governmentCatalogue.validateData(type, event.data);
  if (!validation.ok)
    return permanent("schema_validation_failed", `data does not match ${type}`, { issues: validation.issues });

  const base = { key: messageId, source: event.source, id: event.id, version };
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
