import { describe, expect, it } from "vitest";
import { consumed, retryLater } from "#shared/consumers/outcome.ts";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import type { NotifyResult } from "./notify/notify-event.ts";
import { channelsNote, withNotificationLogging } from "./notify-log-line.ts";

const result = (channels: NotifyResult["channels"]): NotifyResult => ({ template: "t", locale: "en", channels });
const message = {
  id: "m-1",
  queue: "notifications",
  timestamp: new Date(),
  attempts: 2,
  body: { id: "e-1", source: "/s", type: "gov.x" },
};

describe("the notifier's log line per message", () => {
  it("says what happened on each channel", () => {
    expect(
      channelsNote(
        result([
          { channel: "email", status: "sent", providerMessageId: "m" },
          { channel: "sms", status: "skipped", reason: "no_phone_number" },
          { channel: "webhook", status: "sent", providerMessageId: "w", reconciliation: "found" },
          { channel: "push", status: "already_sent" },
        ]),
      ),
    ).toBe("email sent, sms skipped: no_phone_number, webhook sent (reconciled found), push already_sent");
    expect(channelsNote({ template: undefined, locale: undefined, channels: [] })).toBe(
      "no notification rule for this event type",
    );
  });

  it("writes exactly one record per message: handled with the channels, a warning when one was given up, or not handled with the error", async () => {
    const lines: { level: string; record: Record<string, unknown> }[] = [];
    const logger = createLogger({}, (line, level) => lines.push({ level, record: JSON.parse(line) }));
    const given = result([{ channel: "email", status: "given_up" }]);
    await withNotificationLogging(logger, () => given)(async () => consumed())(message);
    await withNotificationLogging(
      logger,
      () => undefined,
    )(async () =>
      retryLater(new EdgebusError("rate_limited", "sendgrid rate limited the request", { retryable: true }), 120),
    )(message);
    expect(lines).toEqual([
      {
        level: "warn",
        record: expect.objectContaining({
          msg: "message handled",
          request_id: "m-1",
          attempts: 2,
          event_id: "e-1",
          note: "email given_up",
        }),
      },
      {
        level: "warn",
        record: expect.objectContaining({ msg: "message not handled", error_code: "rate_limited", delay_seconds: 120 }),
      },
    ]);
  });
});
