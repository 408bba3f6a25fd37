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
 *
 * One refresh at a time per isolate: when the list expires, the first request reads the table and
 * the requests that arrive while it does use the list it is replacing (it is at most one TTL plus
 * one read old), instead of each opening a connection for the same rows. They do not wait for the
 * first request's read: a Worker must not await I/O begun by another request. A refresh that has
 * not finished within `REFRESH_WAIT_MS` (its request cancelled, say) no longer holds the others
 * back; with no list yet, every request reads the table, as there is nothing else to use.
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
/** How long other requests use the previous list while one request refreshes it (its connect timeout is 5 s). */
export const REFRESH_WAIT_MS = 10_000;

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
  /** The refresh under way (`undefined`: none); an object, so two refreshes are never mistaken for each other. */
  #refresh: { readonly startedAt: number } | undefined;
  /** Bumped by `invalidate()`: a read begun before a change does not replace the list after it. */
  #generation = 0;
  readonly #databaseUrl: string;
  readonly #ttlMs: number;
  readonly #wakeQueue: WakeQueue | null;
  readonly #now: () => number;
  readonly #load: (sql: Database) => Promise<readonly RoutableSubscription[]>;

  constructor(options: {
    databaseUrl: string;
    ttlSeconds: number;
    wakeQueue: WakeQueue | null;
    now?: () => number;
    /** Reads the routable subscriptions; `loadRoutableSubscriptions` unless a test counts the reads. */
    load?: (sql: Database) => Promise<readonly RoutableSubscription[]>;
  }) {
    this.#databaseUrl = options.databaseUrl;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#wakeQueue = options.wakeQueue;
    this.#now = options.now ?? Date.now;
    this.#load = options.load ?? loadRoutableSubscriptions;
  }

  /** Opens a client for this request (sockets cannot outlive a request in a Worker). */
  #open(): Database {
    return openDatabase(this.#databaseUrl, { max: 1, connectTimeoutSeconds: 5 });
  }

  /** Drops the cached list: the next publish in this isolate reads the table again. */
  invalidate(): void {
    this.#loadedAt = 0;
    this.#refresh = undefined;
    this.#generation += 1;
  }

  /** The routable subscriptions, refreshed when older than the TTL (one refresh at a time). */
  async current(): Promise<readonly RoutableSubscription[]> {
    const startedAt = this.#now();
    const age = startedAt - this.#loadedAt;
    if (this.#list !== undefined && age < this.#ttlMs) return this.#list;
    const refreshing = this.#refresh !== undefined && startedAt - this.#refresh.startedAt < REFRESH_WAIT_MS;
    if (this.#list !== undefined && refreshing && age < MAX_STALE_MS) return this.#list;
    const refresh = { startedAt };
    this.#refresh = refresh;
    const generation = this.#generation;
    try {
      const list = await this.#load(this.#open());
      if (generation === this.#generation) {
        this.#list = list;
        this.#loadedAt = this.#now();
      }
      return list;
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
    } finally {
      if (this.#refresh === refresh) this.#refresh = undefined;
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
