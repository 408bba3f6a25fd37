/** planBatch: a batch's sends reserved in two waves, and no later plan handed out before its wave is reserved. */
import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import type { NotificationLog, SendRecord } from "./notification-log.ts";
import { planBatch } from "./notify-batch.ts";
import type { NotifierDependencies } from "./notify-event.ts";
import type { Sender } from "./sender.ts";
import { loadTemplateCatalogue } from "./template-catalogue.ts";

const { applicant: _applicant, ...approval } = governmentCatalogue.require("gov.permits.application.approved")
  .example as Record<string, unknown>;

function approved(n: number): { id: string; body: CloudEventRecord } {
  return {
    id: `m${n}`,
    body: {
      specversion: "1.0",
      id: `e${n}`,
      source: "/test/notify-batch",
      type: "gov.permits.application.approved",
      time: "2026-06-03T10:16:41Z",
      edgebusdirectcontact: false,
      data: { ...approval, citizen_id: 4_000_000 + n },
    } as CloudEventRecord,
  };
}

const never = () => Promise.reject(new Error("not expected"));
const sender = <C extends "email" | "sms">(channel: C): Sender<C> => ({ channel, provider: "test", send: never });

describe("planBatch", () => {
  it("reserves the first wave before it resolves; a later message's plan waits for its own wave", async () => {
    const waves: string[][] = [];
    let releaseSecond = () => {};
    const log: NotificationLog = {
      async reserveAhead(records: readonly SendRecord[]) {
        waves.push(records.map((record) => record.eventId));
        if (waves.length === 2) await new Promise<void>((resolve) => (releaseSecond = resolve));
      },
      reserve: never,
      markSent: never,
      markFailed: never,
      markUnknown: never,
      markGivenUp: never,
      releaseUnknown: never,
      recordSkipped: never,
    };
    const deps: NotifierDependencies = {
      catalogue: loadTemplateCatalogue(),
      directory: {
        find: async (_directory, citizenId) => ({
          state: "known",
          contact: { name: "A Citizen", email: `c${citizenId}@example.org`, phone: null, preferredLanguage: "en" },
        }),
      },
      log,
      timeZone: "Europe/Dublin",
      senders: { email: sender("email"), sms: sender("sms") },
    };
    const plans = await planBatch([approved(1), approved(2), approved(3)], deps, { firstWave: 2 });
    expect(waves).toEqual([["e1", "e2"], ["e3"]]);

    let thirdHandedOut = false;
    void plans.get("m3")?.then(() => {
      thirdHandedOut = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(thirdHandedOut).toBe(false);
    releaseSecond();
    const third = await plans.get("m3");
    expect(third?.planned.map((planned) => planned.kind)).toEqual(["send"]);
    expect(thirdHandedOut).toBe(true);
  });
});
