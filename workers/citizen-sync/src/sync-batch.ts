/**
 * Decides an outcome for every message of a citizen-sync batch: poison → dead letter; the rest
 * applied together in one transaction (`applyCitizenChanges`). A transient database failure
 * retries the valid messages with backoff. A permanent one (a value Postgres refuses) is
 * isolated by applying each change on its own, so one bad event cannot hold back the batch.
 */
import type { ConsumerMessage } from "#shared/consumers/consumer-message.ts";
import { consumed, deadLetter, type Outcome, retryLater } from "#shared/consumers/outcome.ts";
import { type Database, databaseError } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { parseCitizenEvent } from "./citizen-event.ts";
import {
  applyCitizenChanges,
  type CitizenChange,
  type CitizenChangeResult,
  type CitizenTarget,
} from "./citizen-refs-store.ts";

export interface SyncTarget {
  readonly sql: Database;
  readonly target: CitizenTarget;
  /** Name in processed_events and dead letters, e.g. `citizen-sync:permits`. */
  readonly consumer: string;
}

export async function syncCitizenBatch(
  messages: readonly ConsumerMessage[],
  { sql, target, consumer }: SyncTarget,
): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const changes: CitizenChange[] = [];
  for (const message of messages) {
    const parsed = parseCitizenEvent(message.id, message.body);
    if (parsed.ok) changes.push(parsed.change);
    else outcomes.set(message.id, deadLetter(parsed.error));
  }
  if (changes.length === 0) return outcomes;

  try {
    const results = await applyCitizenChanges(sql, target, consumer, changes);
    for (const [key, result] of results) outcomes.set(key, outcomeOf(result));
  } catch (thrown) {
    const error = databaseError(thrown, `writing ${target}.citizen_refs`);
    if (error.retryable || changes.length === 1) {
      for (const change of changes) outcomes.set(change.key, error.retryable ? retryLater(error) : deadLetter(error));
    } else {
      for (const change of changes) {
        try {
          const results = await applyCitizenChanges(sql, target, consumer, [change]);
          outcomes.set(change.key, outcomeOf(results.get(change.key) ?? "applied"));
        } catch (single) {
          const singleError = databaseError(single, `writing ${target}.citizen_refs`);
          outcomes.set(change.key, singleError.retryable ? retryLater(singleError) : deadLetter(singleError));
        }
      }
    }
  }
  return outcomes;
}

function outcomeOf(result: CitizenChangeResult): Outcome {
  switch (result) {
    case "applied":
      return consumed("applied");
    case "stale":
      return consumed("stale");
    case "duplicate":
      return consumed("duplicate");
    case "unknown-citizen":
      // The citizen's `created` event is most likely still in flight; retry with backoff, and
      // dead-letter if it never arrives.
      return retryLater(
        new EdgebusError("conflict", "verification for a citizen this read model does not know yet", {
          retryable: true,
        }),
      );
  }
}
