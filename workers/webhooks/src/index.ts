/**
 * The webhooks Worker (docs/webhooks.md): delivers the outbox of run-time webhook subscriptions.
 *
 * - `queue` (`webhooks`): wake-up messages `{subscription_id}` from the producer (an event was
 *   written to the outbox, a subscription resumed, a test or a redrive) → the subscription's
 *   WebhookDispatcher sends its backlog in order.
 * - `scheduled` (every minute): wakes every active subscription with a delivery due (retries
 *   whose time came, a lost wake-up) and deletes finished deliveries older than
 *   WEBHOOK_HISTORY_DAYS.
 */
import { openDatabase } from "#shared/db/client.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { parseWebhooksEnv, type WebhooksConfig } from "./config.ts";
import { dueSubscriptions, pruneHistory } from "./delivery-store.ts";
import type { WebhookDispatcherRpc } from "./dispatcher.ts";

export { WebhookDispatcher } from "./dispatcher.ts";

const log = createLogger({ component: "webhooks" });
const SUBSCRIPTION_ID = /^sub_[0-9a-f]{32}$/;
/** Subscriptions the sweep wakes per run at most. */
const SWEEP_LIMIT = 1000;

function dispatcher(config: WebhooksConfig, subscriptionId: string): WebhookDispatcherRpc {
  const namespace = config.dispatchers;
  return namespace.get(namespace.idFromName(subscriptionId)) as unknown as WebhookDispatcherRpc;
}

export default {
  async queue(batch: MessageBatch<unknown>, env: Record<string, unknown>): Promise<void> {
    let config: WebhooksConfig;
    try {
      config = parseWebhooksEnv(env);
    } catch (error) {
      log.log("error", "invalid configuration", errorLogFields(error));
      batch.retryAll({ delaySeconds: 60 });
      return;
    }
    // One wake-up per subscription, however many messages name it.
    const bySubscription = new Map<string, Message<unknown>[]>();
    for (const message of batch.messages) {
      const id = (message.body as { subscription_id?: unknown } | null)?.subscription_id;
      if (typeof id !== "string" || !SUBSCRIPTION_ID.test(id)) {
        log.log("warn", "not a wake-up message; dropped", { queue: batch.queue });
        message.ack();
        continue;
      }
      bySubscription.set(id, [...(bySubscription.get(id) ?? []), message]);
    }
    await Promise.all(
      [...bySubscription].map(async ([id, messages]) => {
        try {
          await dispatcher(config, id).wake(id);
          for (const message of messages) message.ack();
        } catch (error) {
          log.log("warn", "could not wake a dispatcher; retrying", {
            ...errorLogFields(error),
            note: `subscription=${id}`,
          });
          for (const message of messages) message.retry({ delaySeconds: 5 });
        }
      }),
    );
  },

  async scheduled(_controller: ScheduledController, env: Record<string, unknown>): Promise<void> {
    const config = parseWebhooksEnv(env);
    const sql = openDatabase(config.databaseUrl, { max: 2 });
    const due = await dueSubscriptions(sql, SWEEP_LIMIT);
    await Promise.all(
      due.map((id) =>
        dispatcher(config, id)
          .wake(id)
          .catch((error: unknown) => log.log("warn", "sweep could not wake a dispatcher", errorLogFields(error))),
      ),
    );
    const pruned = await pruneHistory(sql, config.historyDays);
    if (due.length > 0 || pruned > 0) {
      log.log("info", "webhook sweep", { count: due.length, note: `woken=${due.length} pruned=${pruned}` });
    }
  },
} satisfies ExportedHandler<Record<string, unknown>>;
