/**
 * A batch's notifications planned before any of them is sent: every event's plan (`planEvent`,
 * `planQueued`: recipient, send records with their idempotency keys; a notification rule's
 * messages are rendered when the event executes, `EventPlan.render`) is made first, then the
 * first attempts of all the sends they plan are reserved (`NotificationLog.reserveAhead`) in two
 * statements: the first wave's before the batch's first provider call, the rest's right behind
 * it, before any of those messages starts. Each message then
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
 * their sends: the first `firstWave` messages' sends in one statement, the others' in a second
 * one right behind it, so the first sends can start while the rest are still being reserved.
 * Resolves once the first wave is reserved, with the plans by message id; the plan of a later
 * message resolves only once its wave's reservation settled, so no send is handed out before
 * its reservation was written. A message left out (a body the handler refuses) plans alone.
 * Never rejects: a failed reservation leaves each send to reserve itself, as without a batch.
 */
export async function planBatch(
  messages: readonly { readonly id: string; readonly body: unknown }[],
  deps: NotifierDependencies,
  {
    reserveAhead: ahead = true,
    firstWave = Number.POSITIVE_INFINITY,
  }: { readonly reserveAhead?: boolean; readonly firstWave?: number } = {},
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
  if (!ahead || !reserveAhead) return plans;
  const reserve = async (wave: readonly Promise<EventPlan>[]): Promise<void> => {
    const settled = await Promise.allSettled(wave);
    const records = settled.flatMap((result) =>
      result.status === "fulfilled"
        ? result.value.planned.flatMap((planned) => (planned.kind === "send" ? [planned.record] : []))
        : [],
    );
    await reserveAhead(records).catch(() => {});
  };
  const entries = [...plans];
  const first = reserve(entries.slice(0, firstWave).map(([, plan]) => plan));
  const later = entries.slice(firstWave);
  if (later.length > 0) {
    // Queued on the connection behind the first wave's statement.
    const reserved = reserve(later.map(([, plan]) => plan));
    for (const [id, plan] of later) {
      const afterReservation = reserved.then(() => plan);
      afterReservation.catch(() => {});
      plans.set(id, afterReservation);
    }
  }
  await first;
  return plans;
}
