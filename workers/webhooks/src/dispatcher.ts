/**
 * WebhookDispatcher: one Durable Object per subscription (named by its id) sends that
 * subscription's outbox in order of arrival, from alarms. A wake-up (`wake`, from the queue
 * consumer or the cron's sweep) sets an alarm for now; each alarm sends the head delivery, then
 * the next, until the outbox is empty, the subscription is paused or disabled, the head must wait
 * for its retry (the alarm is set for then), or the alarm's budget is spent (it continues at
 * once). A failing head blocks the deliveries behind it: order holds while the target is unhealthy,
 * and a delivery that used up its schedule is marked failed (redrivable) so the rest can follow.
 *
 * Postgres holds every state; the object stores only the subscription id. The alarm never throws:
 * a database failure re-arms it with backoff (the platform's own alarm retries never double a send).
 */
import { DurableObject } from "cloudflare:workers";
import { boundLabel, HISTOGRAM_BOUNDS } from "#shared/consumers/consumer-metrics.ts";
import { openDatabase } from "#shared/db/client.ts";
import { addBatchCounts } from "#shared/db/consumer-metrics-store.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { attemptRecord, disableReason } from "./attempt-outcome.ts";
import { parseWebhooksEnv, type WebhooksConfig } from "./config.ts";
import { attemptDelivery } from "./deliver.ts";
import { disableSubscription, headDelivery, loadSubscription, recordAttempt } from "./delivery-store.ts";

const SUBSCRIPTION_KEY = "subscription-id";
const FAILURES_KEY = "consecutive-failures";
/** Deliveries one alarm sends at most, and for how long, before it hands over to the next alarm. */
const ALARM_BUDGET = { deliveries: 50, ms: 20_000 } as const;
/** Consumer and queue names of the webhooks' rows in edgebus.consumer_metrics. */
export const METRICS_CONSUMER = "webhooks";
export const METRICS_QUEUE = "webhooks";

const log = createLogger({ component: "webhooks" });

export interface WebhookDispatcherRpc {
  wake(subscriptionId: string): Promise<void>;
}

interface DrainCounts {
  delivered: number;
  retried: number;
  failed: number;
}

function histogram(value: number, bounds: readonly number[]) {
  const bound = bounds.find((b) => value <= b) ?? Number.POSITIVE_INFINITY;
  return { count: 1, sum: value, buckets: { [boundLabel(bound)]: 1 } };
}

export class WebhookDispatcher extends DurableObject<Record<string, unknown>> implements WebhookDispatcherRpc {
  async wake(subscriptionId: string): Promise<void> {
    await this.ctx.storage.put(SUBSCRIPTION_KEY, subscriptionId);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > Date.now()) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Arms the alarm for `at` unless one is already due sooner (a wake-up during this alarm). */
  async #armFor(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const subscriptionId = await this.ctx.storage.get<string>(SUBSCRIPTION_KEY);
    if (subscriptionId === undefined) return;
    const started = Date.now();
    const counts: DrainCounts = { delivered: 0, retried: 0, failed: 0 };
    let sql: ReturnType<typeof openDatabase> | undefined;
    try {
      const config = parseWebhooksEnv(this.env);
      sql = openDatabase(config.databaseUrl, { max: 2 });
      const next = await this.#drain(sql, config, subscriptionId, counts, started);
      await this.ctx.storage.delete(FAILURES_KEY);
      if (next !== undefined) await this.#armFor(next);
    } catch (thrown) {
      const failures = ((await this.ctx.storage.get<number>(FAILURES_KEY)) ?? 0) + 1;
      await this.ctx.storage.put(FAILURES_KEY, failures);
      log.log("error", "webhook dispatch failed; retrying", {
        ...errorLogFields(thrown),
        note: `subscription=${subscriptionId} failures=${failures}`,
      });
      await this.#armFor(Date.now() + Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)));
    }
    const attempted = counts.delivered + counts.retried + counts.failed;
    if (sql !== undefined && attempted > 0) {
      await addBatchCounts(sql, {
        consumer: METRICS_CONSUMER,
        queue: METRICS_QUEUE,
        messages: { applied: counts.delivered, duplicate: 0, retried: counts.retried, dead_lettered: counts.failed },
        batchSize: histogram(attempted, HISTOGRAM_BOUNDS.batchSize),
        batchSeconds: histogram((Date.now() - started) / 1000, HISTOGRAM_BOUNDS.batchSeconds),
        eventAge: { count: 0, sum: 0, buckets: {} },
        enqueueAge: { count: 0, sum: 0, buckets: {} },
      }).catch((error: unknown) => log.log("warn", "webhook metrics not recorded", errorLogFields(error)));
    }
    // The client is not ended (see ReplayJobRunner): the runtime closes the alarm's sockets.
  }

  /** Sends due deliveries in order; returns when the next alarm is due, or undefined for none. */
  async #drain(
    sql: ReturnType<typeof openDatabase>,
    config: WebhooksConfig,
    subscriptionId: string,
    counts: DrainCounts,
    started: number,
  ): Promise<number | undefined> {
    let lastSend = 0;
    for (let sent = 0; ; sent++) {
      if (sent >= ALARM_BUDGET.deliveries || Date.now() - started > ALARM_BUDGET.ms) return Date.now();
      const subscription = await loadSubscription(sql, subscriptionId);
      if (subscription === undefined) {
        await this.ctx.storage.deleteAll();
        return undefined;
      }
      if (subscription.status !== "active") return undefined;
      const head = await headDelivery(sql, subscriptionId);
      if (head === undefined) return undefined;
      if (head.nextAttemptAt.getTime() > Date.now()) return head.nextAttemptAt.getTime();
      if (subscription.perSecond !== null) {
        const gap = 1000 / subscription.perSecond - (Date.now() - lastSend);
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      }
      lastSend = Date.now();
      const result = await attemptDelivery(config, subscription, head);
      const attempts = head.attempts + 1;
      const record = attemptRecord(config, attempts, result);
      if (record.outcome === "delivered") counts.delivered++;
      if (record.outcome === "retry") counts.retried++;
      if (record.outcome === "failed") counts.failed++;
      const { failingSince } = await recordAttempt(sql, subscriptionId, head, record);
      const logFields = {
        attempts,
        note: `subscription=${subscriptionId} seq=${head.seq} webhook-id=${head.messageId}`,
      };
      const disable = disableReason(config, record, failingSince);
      if (disable !== undefined) {
        await disableSubscription(sql, subscriptionId, disable);
        log.log("warn", "webhook subscription disabled", { ...logFields, error_message: disable });
        return undefined;
      }
      if (record.outcome === "retry") {
        log.log("info", "webhook delivery failed; retry scheduled", {
          ...logFields,
          error_message: record.error ?? "",
        });
        return record.nextAttemptAt?.getTime();
      }
    }
  }
}
