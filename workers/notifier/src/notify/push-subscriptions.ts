/**
 * A citizen's Web Push subscriptions (`edgebus.push_subscriptions`, registered through the
 * producer's `/v1/citizens/{id}/push-subscriptions`). The notifier reads them to send a
 * `gov.notification.push.queued` and deletes one its push service says is gone (404/410).
 */
import type { Database } from "#shared/db/client.ts";
import { databaseError } from "#shared/db/client.ts";

export interface PushSubscriptionRow {
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
}

export interface PushSubscriptionStore {
  /** The citizen's subscriptions that have not passed their `expirationTime`, oldest first. */
  forCitizen(citizenId: number): Promise<readonly PushSubscriptionRow[]>;
  /** Deletes the subscription of `endpoint`; true when there was one. */
  remove(endpoint: string): Promise<boolean>;
}

export class PostgresPushSubscriptions implements PushSubscriptionStore {
  readonly #sql: Database;

  constructor(sql: Database) {
    this.#sql = sql;
  }

  async forCitizen(citizenId: number): Promise<readonly PushSubscriptionRow[]> {
    try {
      return await this.#sql<PushSubscriptionRow[]>`
        select endpoint, p256dh, auth from edgebus.push_subscriptions
        where citizen_id = ${citizenId} and (expires_at is null or expires_at > now())
        order by created_at, endpoint`;
    } catch (thrown) {
      throw databaseError(thrown, "reading push subscriptions");
    }
  }

  async remove(endpoint: string): Promise<boolean> {
    try {
      const rows = await this.#sql`delete from edgebus.push_subscriptions where endpoint = ${endpoint} returning 1`;
      return rows.length > 0;
    } catch (thrown) {
      throw databaseError(thrown, "removing a push subscription");
    }
  }
}
