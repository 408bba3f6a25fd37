/**
 * The producer's first step on a parsed event, before its scope is checked: the type's alias is
 * resolved (`citizen.created` → `gov.auth.citizen.created`) and `data` sent in another form of the
 * type is mapped to the current shape by the catalogue's upcaster for that form
 * (`shared/src/catalogue/upcaster.ts`, e.g. `schemas/upcasters/seed-v1.ts`). Everything after
 * (scope check, normalisation, routing, consumers) sees the current shape; `receivedAs` tells the
 * receipt which form came in.
 *
 * The catalogue is the one the publishing key belongs to (today every key publishes into the
 * deployment's one catalogue), so aliases and forms resolve per catalogue.
 */
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { EdgebusError } from "#shared/errors.ts";
import type { IncomingEvent } from "./http-binding.ts";

/** What upcasting needs from the catalogue. */
export type CatalogueUpcasting = Pick<Catalogue, "resolveType" | "get" | "upcast">;

export interface UpcastEvent {
  /** The attributes with the full type and, when upcast, current-shape `data`, `time` and `source`. */
  readonly attributes: Record<string, unknown>;
  /** The upcaster's id (`seed-v1`) when `data` came in another form; absent for the current shape. */
  readonly receivedAs?: string;
}

export interface UpcastOptions {
  /** Clock for the time of receipt (tests pin it). */
  now?: () => Date;
}

export function upcastEvent(
  incoming: IncomingEvent,
  catalogue: CatalogueUpcasting,
  options: UpcastOptions = {},
): UpcastEvent {
  const received = incoming.attributes;
  const type = typeof received.type === "string" ? catalogue.resolveType(received.type) : received.type;
  const attributes = type === received.type ? received : { ...received, type };
  // An unknown type is normalisation's to refuse (422 with close matches).
  if (typeof type !== "string" || catalogue.get(type) === undefined) return { attributes };

  // The event's time, fixed now so that a time the upcaster copies into `data` equals `time`.
  const time = typeof received.time === "string" ? received.time : (options.now?.() ?? new Date()).toISOString();
  const outcome = catalogue.upcast(type, {
    data: received.data,
    time,
    source: String(received.source),
    sourceGivenAs: incoming.sourceGivenAs ?? "attribute",
  });
  if (outcome === undefined) return { attributes };
  if (!outcome.ok) {
    throw new EdgebusError(
      "schema_validation_failed",
      `data is in the ${outcome.form} form of ${type} but cannot be mapped to its current shape`,
      { details: { type, received_as: outcome.form, issues: outcome.issues } },
    );
  }
  return {
    attributes: {
      ...attributes,
      time,
      data: outcome.data,
      ...(outcome.source === undefined ? {} : { source: outcome.source }),
    },
    receivedAs: outcome.form,
  };
}
