/**
 * A batch's notifications planned before any of them is sent: every event's plan (`planEvent`,
 * `planQueued`: recipient, rendered messages, send records) is made first, then the first
 * attempts of all the sends they plan are reserved in one statement
 * (`NotificationLog.reserveAhead`), before the batch's first provider call. Each message then
 * carries out its own plan (`executePlan`) exactly as it would alone: its `reserve` is answered
 * from the batch's reservation, and everything after it (provider call, marks, unknown outcomes,
 * retries, dead letters) is unchanged.
 *
 * A plan that failed (a template variable missing, the directory unreachable) is kept as its
 * rejection: the message's handler meets the same error it would have met planning alone.
 */
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { parseQueuedEvent } from "#shared/envelope/queue-message.ts";
import type { EventPlan, NotifierDependencies } from "./notify-event.ts";
import { planEvent } from "./notify-event.ts";
import { isQueuedNotification, planQueued } from "./queued-notification.ts";

/** The plan of an event, whichever kind (a notification rule's or a queued notification). */
export function planFor(event: CloudEventRecord, deps: NotifierDependencies): Promise<EventPlan> {
  return isQueuedNotification(event.type) ? planQueued(event, deps) : planEvent(event, deps);
}

/**
 * Plans every readable event of `messages` and, with `reserveAhead` (when the log can), reserves
 * their sends. Returns the plans by message id; a message left out (a body the handler refuses)
 * plans alone. Never rejects: a failed reservation leaves each send to reserve itself, as
 * without a batch.
 */
export async function planBatch(
  messages: readonly { readonly id: string; readonly body: unknown }[],
  deps: NotifierDependencies,
  { reserveAhead: ahead = true }: { readonly reserveAhead?: boolean } = {},
): Promise<Map<string, Promise<EventPlan>>> {
  const plans = new Map<string, Promise<EventPlan>>();
  for (const message of messages) {
    if (!parseQueuedEvent(message.body).ok) continue;
    const plan = planFor(message.body as CloudEventRecord, deps);
    // Settled by the message's handler; kept from counting as unhandled meanwhile.
    plan.catch(() => {});
    plans.set(message.id, plan);
  }
  const reserveAhead = deps.log.reserveAhead?.bind(deps.log);
  if (ahead && reserveAhead) {
    const settled = await Promise.allSettled(plans.values());
    const records = settled.flatMap((result) =>
      result.status === "fulfilled"
        ? result.value.planned.flatMap((planned) => (planned.kind === "send" ? [planned.record] : []))
        : [],
    );
    await reserveAhead(records).catch(() => {});
  }
  return plans;
}
