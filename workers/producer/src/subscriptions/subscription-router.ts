/**
 * How published events reach webhook subscriptions without a deploy: the producer keeps the
 * routable subscriptions (active and paused) of `edgebus.webhook_subscriptions` in isolate memory
 * for `SUBSCRIPTION_CACHE_SECONDS` (default 5), so a created, changed, paused or deleted
 * subscription takes effect within that time in every isolate — at once in the isolate that
 * changed it, which drops its copy. A matching event becomes one outbox row per subscription
 * (`edgebus.webhook_deliveries`, body already reduced to the subscription's fields), written as
 * one more destination of the event's effectively-once delivery (`webhooks:outbox`), then the
 * webhooks Worker is woken through the `webhooks` queue.
 *
 * A failed refresh keeps the previous list for up to `MAX_STALE_MS` (logged); with no list at all
 * the publish fails with 503 and is retried by the caller, so no matching event is ever published
 * without its deliveries.
 */

import { type Database, openDatabase } from "#shared/db/client.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { matchesPattern } from "#shared/routing/event-pattern.ts";
import { selectFields } from "./field-selection.ts";
import {
  insertOutboxRows,
  loadRoutableSubscriptions,
  type OutboxRow,
  type RoutableSubscription,
} from "./subscription-store.ts";

/** The outbox destination of the producer's delivery plan. */
export const WEBHOOK_DESTINATION = "webhooks:outbox";
/** How long a list may be used after its refresh started failing. */
export const MAX_STALE_MS = 5 * 60_000;

const log = createLogger({ component: "producer" });

/** What the webhooks Worker's queue consumer reads: "look at this subscription's outbox". */
export interface WakeMessage {
  readonly subscription_id: string;
}

export interface WakeQueue {
  sendBatch(messages: Iterable<{ body: WakeMessage; contentType?: "json" }>): Promise<unknown>;
}

export class SubscriptionRouter {
  #list: readonly RoutableSubscription[] | undefined;
  #loadedAt = 0;
  readonly #databaseUrl: string;
  readonly #ttlMs: number;
  readonly #wakeQueue: WakeQueue | null;
  readonly #now: () => number;

  constructor(options: { databaseUrl: string; ttlSeconds: number; wakeQueue: WakeQueue | null; now?: () => number }) {
    this.#databaseUrl = options.databaseUrl;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#wakeQueue = options.wakeQueue;
    this.#now = options.now ?? Date.now;
  }

  /** Opens a client for this request (sockets cannot outlive a request in a Worker). */
  #open(): Database {
    return openDatabase(this.#databaseUrl, { max: 1, connectTimeoutSeconds: 5 });
  }

  /** Drops the cached list: the next publish in this isolate reads the table again. */
  invalidate(): void {
    this.#loadedAt = 0;
  }

  /** The routable subscriptions, refreshed when older than the TTL. */
  async current(): Promise<readonly RoutableSubscription[]> {
    const age = this.#now() - this.#loadedAt;
    if (this.#list !== undefined && age < this.#ttlMs) return this.#list;
    try {
      this.#list = await loadRoutableSubscriptions(this.#open());
      this.#loadedAt = this.#now();
      return this.#list;
    } catch (error) {
      if (this.#list !== undefined && age < MAX_STALE_MS) {
        log.log("warn", "webhook subscriptions could not be refreshed; using the previous list", errorLogFields(error));
        return this.#list;
      }
      log.log("error", "webhook subscriptions could not be loaded", errorLogFields(error));
      throw new EdgebusError("upstream_unavailable", "webhook subscriptions could not be loaded; retry the request", {
        cause: error,
        retryAfterSeconds: 2,
      });
    }
  }

  /** The subscriptions `event` goes to. */
  static matching(list: readonly RoutableSubscription[], event: CloudEventRecord): RoutableSubscription[] {
    return list.filter((subscription) => matchesPattern(subscription.filter, event));
  }

  /**
   * Writes the outbox rows of `deliveries` (in order) and wakes their subscriptions' dispatchers.
   * A failed wake is only logged: the rows are safe and the webhooks Worker's sweep finds them.
   */
  async deliver(deliveries: readonly { event: CloudEventRecord; subscriptions: readonly RoutableSubscription[] }[]) {
    const rows: OutboxRow[] = deliveries.flatMap(({ event, subscriptions }) =>
      subscriptions.map((subscription) => ({
        subscription_id: subscription.id,
        event_source: event.source,
        event_id: event.id,
        event_type: event.type,
        body: JSON.stringify(selectFields(event, subscription.fields)),
      })),
    );
    if (rows.length === 0) return;
    const woken = await insertOutboxRows(this.#open(), rows);
    await this.wake(woken);
  }

  /** Asks the webhooks Worker to look at these subscriptions' outbox now. */
  async wake(subscriptionIds: readonly string[]): Promise<void> {
    if (this.#wakeQueue === null || subscriptionIds.length === 0) return;
    try {
      await this.#wakeQueue.sendBatch(
        subscriptionIds.map((id) => ({ body: { subscription_id: id }, contentType: "json" as const })),
      );
    } catch (error) {
      log.log("warn", "could not wake the webhooks Worker; its sweep will deliver", errorLogFields(error));
    }
  }
}
