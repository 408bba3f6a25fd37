/**
 * The notifier's one log line per message: the shared consumers' `message handled` / `message
 * not handled` record (same fields), whose `note` for a handled message says what happened on
 * each channel — `email sent`, `sms skipped: no_phone_number`, `email sent (reconciled found)`,
 * `email already_sent`, `email given_up`, or `no notification rule for this event type`. One
 * line instead of one per channel plus one per message: a batch of 100 emails writes 100 lines.
 * A message with a given-up channel is logged as a warning.
 */
import type { Middleware } from "#shared/consumers/handler.ts";
import { withLogging } from "#shared/consumers/with-logging.ts";
import type { Logger } from "#shared/log.ts";
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
 * Logs each message's outcome once (put it outermost): the shared consumers' line, whose note for
 * a handled message lists its channels. `resultOf` gives the channel results the handler
 * recorded for the message, if it got that far.
 */
export function withNotificationLogging(
  logger: Logger,
  resultOf: (messageId: string) => NotifyResult | undefined,
): Middleware<unknown> {
  return withLogging(logger, {
    handled(message) {
      const result = resultOf(message.id);
      if (result === undefined) return undefined;
      const gaveUp = result.channels.some((channel) => channel.status === "given_up");
      return { level: gaveUp ? "warn" : "info", note: channelsNote(result) };
    },
  });
}
