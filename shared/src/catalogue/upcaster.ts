/**
 * Upcasters: the other forms in which an event type is sent, and how each maps to the type's
 * current shape. A catalogue declares them beside the event type (`EventTypeDefinition.upcasters`,
 * e.g. `schemas/upcasters/seed-v1.ts`); the producer applies the one that recognises an event's
 * `data` before anything else looks at it, so routing, consumers, the archive and Kafka only ever
 * see the current shape, and the receipt says which form was received (`received_as`).
 *
 * An upcaster is versioned by its form (`seed` v1 → id `seed-v1`): a service that changes what it
 * sends gets a new form version, never a silently different mapping. The catalogue checks every
 * upcaster when it is built (`catalogue.ts`): its example is recognised, maps to `data` the current
 * schema accepts, and the type's own example is not recognised (a current event is never upcast).
 */
import type { DataIssue } from "./data-issues.ts";

/**
 * How the event named its source: `attribute` (a CloudEvents `source`, or the legacy envelope's
 * `source` string), `service` (the legacy envelope's `source.service`, a service name), or
 * `api-key` (the event had none; the producer took the publishing key's only allowed source).
 */
export type SourceGivenAs = "attribute" | "service" | "api-key";

export interface UpcastInput {
  /** The event's `data` as received (this upcaster recognised it). */
  readonly data: unknown;
  /** The event's time: its `time` attribute, or the time of receipt when it has none (RFC 3339). */
  readonly time: string;
  /** The event's `source` as received. */
  readonly source: string;
  readonly sourceGivenAs: SourceGivenAs;
}

export type UpcastResult =
  | {
      readonly ok: true;
      /** `data` in the type's current shape (the catalogue validates it next). */
      readonly data: unknown;
      /** The event's `source` when the form names sources differently; absent = unchanged. */
      readonly source?: string;
      /**
       * Where the sender wrote what is now at `path` in the current shape (`data.name` →
       * `data.snapshot.name`), so an issue the current schema finds names the sender's field.
       */
      readonly pathOf?: (path: string) => string;
    }
  | { readonly ok: false; readonly issues: readonly DataIssue[] };

export interface EventUpcaster {
  /** Name of the form, lowercase (`seed`). */
  readonly form: string;
  /** Version of the form (1, 2…): `<form>-v<formVersion>` is the id the receipt reports. */
  readonly formVersion: number;
  /** One sentence: who sends this form. */
  readonly description: string;
  /**
   * Whether `data` is in this form: a cheap structural test that is never true for the type's
   * current shape (the catalogue checks it against the type's example).
   */
  readonly recognises: (data: unknown) => boolean;
  /** `data` in this form → the current shape, or every problem at the path the sender wrote. */
  readonly upcast: (input: UpcastInput) => UpcastResult;
  /** A realistic `data` in this form; it must upcast to `data` the current schema accepts. */
  readonly example: unknown;
}

/** `seed-v1`: the id of an upcaster's form, reported in the receipt as `received_as`. */
export function upcasterId(upcaster: Pick<EventUpcaster, "form" | "formVersion">): string {
  return `${upcaster.form}-v${upcaster.formVersion}`;
}

/**
 * Maps paths of the current shape back to where the sender wrote them: each pair relocates a
 * path and everything under it (`data.address` → `data.snapshot.address` also turns
 * `data.address.city` into `data.snapshot.address.city`); the longest matching pair wins.
 */
export class PathRelocations {
  readonly #pairs = new Map<string, string>();

  /** What is at `current` (and below) came from `written` (and below). */
  add(current: string, written: string): void {
    this.#pairs.set(current, written);
  }

  readonly pathOf = (path: string): string => {
    let best: [string, string] | undefined;
    for (const [current, written] of this.#pairs) {
      const boundary = path.charAt(current.length);
      const under = path === current || (path.startsWith(current) && (boundary === "." || boundary === "["));
      if (under && (best === undefined || current.length > best[0].length)) best = [current, written];
    }
    return best === undefined ? path : best[1] + path.slice(best[0].length);
  };
}
