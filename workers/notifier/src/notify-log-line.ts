/**
 * The notifier's one log line per message: the shared consumers' `message handled` / `message
 * not handled` record (same fields), whose `note` for a handled message says what happened on
 * each channel — `email sent`, `sms skipped: no_phone_number`, `email sent (reconciled found)`,
 * `email already_sent`, `email given_up`, or `no notification rule for this event type`. One
 * line instead of one per channel plus one per message: a batch of 100 emails writes 100 lines.
 * A message with a given-up channel is logged as a warning.
 */
import type { Middleware } from "#shared/consumers/handler.ts";
import { eventLogFields, type Logger } from "#shared/log.ts";
import type { ChannelResult, NotifyResult } from "./notify/notify-event.ts";

function channelNote(channel: ChannelResult): string {
  if (channel.status === "skipped") return `${channel.channel} skipped: ${channel.reason}`;
  if (channel.status === "sent" && channel.reconciliation) {
    return `${channel.channel} sent (reconciled ${channel.reconciliation})`;
  }
  return `${channel.channel} ${channel.status}`;
}

/** What a handled message's line says about its channels. */
export function channelsNote(result: NotifyResult): string {
  if (result.template === undefined) return "no notification rule for this event type";
  if (result.channels.length === 0) return "nothing to send";
  return result.channels.map(channelNote).join(", ");
}

/**
 * Logs each message's outcome once (put it outermost). `resultOf` gives the channel results the
 * handler recorded for the message, if it got that far.
 */
export function withNotificationLogging(
  logger: Logger,
  resultOf: (messageId: string) => NotifyResult | undefined,
): Middleware<unknown> {
  return (next) =>
    async function logging(message) {
      const started = Date.now();
      const outcome = await next(message);
      const result = resultOf(message.id);
      const fields = {
        request_id: message.id,
        attempts: message.attempts,
        outcome: outcome.kind,
        duration_ms: Date.now() - started,
        ...eventLogFields(message.body),
      };
      if (outcome.kind === "consumed") {
        const gaveUp = result?.channels.some((channel) => channel.status === "given_up") === true;
        logger.log(gaveUp ? "warn" : "info", "message handled", {
          ...fields,
          note: result === undefined ? (outcome.note ?? "applied") : channelsNote(result),
        });
      } else {
        logger.log(outcome.kind === "dead-letter" ? "error" : "warn", "message not handled", {
          ...fields,
          error_code: outcome.error.code,
          error_message: outcome.error.message,
          ...(outcome.kind === "retry-later" && outcome.delaySeconds !== undefined
            ? { delay_seconds: outcome.delaySeconds }
            : { note: outcome.kind === "dead-letter" ? outcome.reason : undefined }),
        });
      }
      return outcome;
    };
}
