/**
 * The publisher stamp: the producer writes the publishing key's id and whether it holds the
 * `notify:direct-contact` scope into every event (`edgebuskeyid`, `edgebusdirectcontact`), and
 * refuses any `edgebus*` attribute a caller sent, in every envelope mode, so consumers can trust
 * the stamp (the notifier sends to contacts carried in an event only when it says so).
 */
import {
  DIRECT_CONTACT_ATTRIBUTE,
  isReservedAttribute,
  PUBLISHER_KEY_ATTRIBUTE,
  RESERVED_EXTENSION_PREFIX,
} from "#shared/envelope/extensions.ts";
import { EdgebusError } from "#shared/errors.ts";
import { DIRECT_CONTACT_SCOPE } from "./auth/api-key-config.ts";
import type { Principal } from "./auth/authenticate.ts";

/** 400 `invalid_envelope` when the caller sent a reserved attribute (or `ce-edgebus*` header). */
export function refuseReservedAttributes(attributes: Readonly<Record<string, unknown>>): void {
  const reserved = Object.keys(attributes).filter(isReservedAttribute);
  if (reserved.length === 0) return;
  throw new EdgebusError(
    "invalid_envelope",
    `extension attributes starting with "${RESERVED_EXTENSION_PREFIX}" are reserved: edgebus sets them from the API key, a caller may not send them (${reserved.join(", ")})`,
    {
      retryable: false,
      details: {
        issues: reserved.map((name) => ({ path: name, message: "reserved: set by edgebus, refused on input" })),
      },
    },
  );
}

/** The caller's attributes plus the stamp of the key that publishes them. */
export function stampPublisher(
  attributes: Readonly<Record<string, unknown>>,
  principal: Principal,
): Record<string, unknown> {
  return {
    ...attributes,
    [PUBLISHER_KEY_ATTRIBUTE]: principal.id,
    [DIRECT_CONTACT_ATTRIBUTE]: principal.scopes.includes(DIRECT_CONTACT_SCOPE),
  };
}
