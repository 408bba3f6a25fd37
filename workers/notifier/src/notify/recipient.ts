/**
 * Who receives a notification. Contact details carried in the event (email, phone, name,
 * language) are used only when the key that published it holds `notify:direct-contact`, which
 * the producer stamps into the event (`edgebusdirectcontact`, refused from callers): otherwise a
 * key allowed to publish, say, permit events could make the council write to any address it puts
 * in the event. Then the event's fields come first and the citizen's `citizen_refs` row in the
 * notification rule's directory fills what they lack (only looked up when needed, so events that carry
 * everything cost no query). Without the scope every contact detail comes from the directory.
 */
import { EdgebusError } from "#shared/errors.ts";
import { valueAt } from "./event-variables.ts";
import type { DirectoryName, NotificationRule } from "./notification-rule.ts";

export interface Recipient {
  readonly citizenId: number | undefined;
  readonly name: string | undefined;
  readonly email: string | undefined;
  readonly phone: string | undefined;
  readonly preferredLanguage: string | undefined;
  /**
   * The directory was asked and does not know the citizen yet (citizen-sync has probably not
   * applied their `created` event): a missing address may still come, so the send waits.
   */
  readonly citizenUnknown: boolean;
}

/** A citizen's contact details as a read model holds them. */
export interface CitizenContact {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly preferredLanguage: string | null;
}

/** What a directory knows of a citizen: their contact, that they were deleted, or nothing yet. */
export type DirectoryEntry =
  | { readonly state: "known"; readonly contact: CitizenContact }
  | { readonly state: "deleted" }
  | { readonly state: "unknown" };

/**
 * Read access to the `citizen_refs` replicas. `find` tells a known citizen from a deleted one (a
 * tombstone: nobody is written to after their account was deleted) and from one the replica has
 * not seen yet; it rejects with a retryable `EdgebusError` when the database is unreachable.
 */
export interface CitizenDirectory {
  find(directory: DirectoryName, citizenId: number): Promise<DirectoryEntry>;
}

const stringAt = (data: unknown, path: string): string | undefined => {
  const value = valueAt(data, path);
  return typeof value === "string" && value.length > 0 ? value : undefined;
};

export interface RecipientOptions {
  /** The publishing key holds `notify:direct-contact`: contacts in the event may be used. */
  readonly directContact: boolean;
}

export async function resolveRecipient(
  notificationRule: NotificationRule,
  data: unknown,
  directory: CitizenDirectory,
  { directContact }: RecipientOptions,
): Promise<Recipient> {
  const { citizenIdPath, contactPath: declaredContactPath, directory: directoryName } = notificationRule.recipient;
  const rawId = valueAt(data, citizenIdPath);
  if (rawId !== undefined && rawId !== null && !Number.isSafeInteger(rawId)) {
    throw new EdgebusError("schema_validation_failed", `${citizenIdPath} is not a citizen id`, { retryable: false });
  }
  const citizenId = rawId === undefined || rawId === null ? undefined : (rawId as number);
  // Without the scope the event's contact fields are not read at all.
  const contactPath = directContact ? declaredContactPath : undefined;
  const prefix = contactPath === undefined ? undefined : contactPath === "" ? "" : `${contactPath}.`;
  const fromEvent = {
    name: prefix === undefined ? undefined : stringAt(data, `${prefix}name`),
    email: prefix === undefined ? undefined : stringAt(data, `${prefix}email`),
    phone: prefix === undefined ? undefined : stringAt(data, `${prefix}phone`),
    preferredLanguage: prefix === undefined ? undefined : stringAt(data, `${prefix}preferred_language`),
  };
  const complete = fromEvent.name && fromEvent.email && fromEvent.phone && fromEvent.preferredLanguage;
  const entry = complete || citizenId === undefined ? undefined : await directory.find(directoryName, citizenId);
  const stored = entry?.state === "known" ? entry.contact : undefined;
  return {
    citizenId,
    name: fromEvent.name ?? stored?.name ?? undefined,
    email: fromEvent.email ?? stored?.email ?? undefined,
    phone: fromEvent.phone ?? stored?.phone ?? undefined,
    preferredLanguage: fromEvent.preferredLanguage ?? stored?.preferredLanguage ?? undefined,
    citizenUnknown: entry?.state === "unknown",
  };
}
