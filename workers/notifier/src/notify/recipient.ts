/**
 * Who receives a notification. The event's own contact fields come first (the publisher knew
 * them when the thing happened); what they lack is filled from the citizen's `citizen_refs` row
 * in the subscription's directory. Only looked up when needed, so events that carry everything
 * cost no query.
 */
import { EdgebusError } from "#shared/errors.ts";
import { valueAt } from "./event-variables.ts";
import type { DirectoryName, Subscription } from "./subscription.ts";

export interface Recipient {
  readonly citizenId: number | undefined;
  readonly name: string | undefined;
  readonly email: string | undefined;
  readonly phone: string | undefined;
  readonly preferredLanguage: string | undefined;
}

/** A citizen's contact details as a read model holds them. */
export interface CitizenContact {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly preferredLanguage: string | null;
}

/**
 * Read access to the `citizen_refs` replicas. `find` resolves undefined for an unknown (or
 * deleted) citizen and rejects with a retryable `EdgebusError` when the database is unreachable.
 */
export interface CitizenDirectory {
  find(directory: DirectoryName, citizenId: number): Promise<CitizenContact | undefined>;
}

const stringAt = (data: unknown, path: string): string | undefined => {
  const value = valueAt(data, path);
  return typeof value === "string" && value.length > 0 ? value : undefined;
};

export async function resolveRecipient(
  subscription: Subscription,
  data: unknown,
  directory: CitizenDirectory,
): Promise<Recipient> {
  const { citizenIdPath, contactPath, directory: directoryName } = subscription.recipient;
  const rawId = valueAt(data, citizenIdPath);
  if (rawId !== undefined && rawId !== null && !Number.isSafeInteger(rawId)) {
    throw new EdgebusError("schema_validation_failed", `${citizenIdPath} is not a citizen id`, { retryable: false });
  }
  const citizenId = rawId === undefined || rawId === null ? undefined : (rawId as number);
  const prefix = contactPath === undefined ? undefined : contactPath === "" ? "" : `${contactPath}.`;
  const fromEvent = {
    name: prefix === undefined ? undefined : stringAt(data, `${prefix}name`),
    email: prefix === undefined ? undefined : stringAt(data, `${prefix}email`),
    phone: prefix === undefined ? undefined : stringAt(data, `${prefix}phone`),
    preferredLanguage: prefix === undefined ? undefined : stringAt(data, `${prefix}preferred_language`),
  };
  const complete = fromEvent.name && fromEvent.email && fromEvent.phone && fromEvent.preferredLanguage;
  const stored = complete || citizenId === undefined ? undefined : await directory.find(directoryName, citizenId);
  return {
    citizenId,
    name: fromEvent.name ?? stored?.name ?? undefined,
    email: fromEvent.email ?? stored?.email ?? undefined,
    phone: fromEvent.phone ?? stored?.phone ?? undefined,
    preferredLanguage: fromEvent.preferredLanguage ?? stored?.preferredLanguage ?? undefined,
  };
}
