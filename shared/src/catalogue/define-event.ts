import type { z } from "zod";
import type { EventTypeDefinition } from "./types.ts";

/**
 * Declares an event type with its schema's types in view, so the compiler checks `example`
 * against the schema (a misspelt or extra field in an example fails `tsc`, not only the catalogue
 * test), then widens it for the domain's `events` list.
 */
export function defineEvent<Data extends z.ZodType>(definition: EventTypeDefinition<Data>): EventTypeDefinition {
  return definition as unknown as EventTypeDefinition;
}
