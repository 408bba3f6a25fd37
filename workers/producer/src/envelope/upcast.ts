/**
 * The producer's first step on a parsed event, before its scope is checked: the type's alias is
 * resolved (`citizen.created` → `gov.auth.citizen.created`) and `data` sent in another form of the
 * type is mapped to the current shape by the catalogue's upcaster for that form
 * (`shared/src/catalogue/upcaster.ts`, e.g. `schemas/upcasters/seed-v1.ts`). Everything after
 * (scope check, normalisation, routing, consumers) sees the current shape; `receivedAs` tells the
 * receipt which form came in.
 *
 * Aliases resolve among the catalogues the publishing key belongs to (`namespacesOfKey` in
 * `publish-event.ts`): the same short name (`payment.failed`) can be commerce's and learning's.
 */
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { EdgebusError } from "#shared/errors.ts";
import type { IncomingEvent } from "./http-binding.ts";

/**
 * What upcasting needs from the catalogue(s). `namespaces`: the catalogues the publishing key
 * belongs to, among which a short name resolves (a `CatalogueSet` honours it; one `Catalogue`
 * has a single namespace anyway). A short name several of them share is refused by `require`.
 */
export interface CatalogueUpcasting {
  resolveType(name: string, namespaces?: readonly string[]): string;
  get: Catalogue["get"];
  upcast: Catalogue["upcast"];
  /** The full types a short name stands for among `namespaces` (a `CatalogueSet`). */
  aliasTargets?(name: string, namespaces?: readonly string[]): string[];
  require?(type: string, namespaces?: readonly string[]): unknown;
}

export interface UpcastEvent {
  /** The attributes with the full type and, when upcast, current-shape `data`, `time` and `source`. */
  readonly attributes: Record<string, unknown>;
  /** The upcaster's id (`seed-v1`) when `data` came in another form; absent for the current shape. */
  readonly receivedAs?: string;
}

export interface UpcastOptions {
  /** Clock for the time of receipt (tests pin it). */
  now?: () => Date;
  /** The catalogues the publishing key belongs to (default: every loaded one). */
  namespaces?: readonly string[];
}

export function upcastEvent(
  incoming: IncomingEvent,
  catalogue: CatalogueUpcasting,
  options: UpcastOptions = {},
): UpcastEvent {
  const received = incoming.attributes;
  const type =
    typeof received.type === "string" ? catalogue.resolveType(received.type, options.namespaces) : received.type;
  const attributes = type === received.type ? received : { ...received, type };
  if (typeof type !== "string" || catalogue.get(type) === undefined) {
    // A short name several of the key's catalogues share is refused here, naming them; any other
    // unknown type is normalisation's to refuse (422 with close matches).
    if (typeof type === "string" && (catalogue.aliasTargets?.(type, options.namespaces).length ?? 0) > 1) {
      catalogue.require?.(type, options.namespaces);
    }
    return { attributes };
  }

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
