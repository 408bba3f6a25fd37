/**
 * The bridge process's logs and error bodies hold no secrets or personal data: a real bridge
 * (Kafka REST, Redis REST, mirror) receives personal data on success paths and secrets in the
 * wrong places on failure paths (a wrong password that differs from the real one by a suffix, a
 * token sent to the wrong area, a mirror signature made with a near-miss secret), and neither
 * its stdout/stderr nor any error body may contain them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIRROR_PATH } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { type BridgeProcess, startBridgeProcess } from "../fuzz/support/bridge-process.ts";
import { httpExchange } from "../fuzz/support/http-exchange.ts";
import { requireService } from "../support/services.ts";

const available = await requireService("kafka", "bridge log hygiene");
const PERSONAL = { name: "Wilhelmina Proudfoot-Zed", email: "wilhelmina.pz@example.org", phone: "+353861112233" };

describe.runIf(available)("bridge logs and error bodies hold no secrets or personal data", () => {
  let bridge: BridgeProcess;
  beforeAll(async () => {
    bridge = await startBridgeProcess();
  }, 90_000);
  afterAll(() => bridge?.stop());

  it("success and failure paths", async () => {
    const { kafkaUsername, kafkaPassword, redisToken, mirrorSecret } = bridge.secrets;
    const basic = (password: string) => `Basic ${Buffer.from(`${kafkaUsername}:${password}`).toString("base64")}`;
    const personalValue = JSON.stringify(PERSONAL);
    const answers: { status: number; text: string }[] = [];
    const send = async (path: string, init: Parameters<typeof httpExchange>[1]) => {
      const answer = await httpExchange(`${bridge.url}${path}`, init);
      answers.push(answer);
      return answer;
    };
    const json = { "content-type": "application/json" };

    expect(
      (
        await send("/kafka/produce", {
          method: "POST",
          headers: { ...json, authorization: basic(kafkaPassword) },
          body: JSON.stringify({ topic: "edgebus.hygiene", value: personalValue }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send("/kafka/produce", {
          method: "POST",
          headers: { ...json, authorization: basic(`${kafkaPassword}x`) },
          body: JSON.stringify({ topic: "edgebus.hygiene", value: personalValue }),
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await send("/kafka/produce", {
          method: "POST",
          headers: { ...json, authorization: basic(kafkaPassword) },
          body: JSON.stringify({ topic: "bad topic!", value: personalValue }),
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await send("/kafka/produce", {
          method: "POST",
          headers: { ...json, authorization: `Bearer ${redisToken}` },
          body: "{}",
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await send("/redis", {
          method: "POST",
          headers: { ...json, authorization: `Bearer ${redisToken}` },
          body: JSON.stringify(["set", "hygiene:citizen", personalValue]),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send("/redis", {
          method: "POST",
          headers: { ...json, authorization: `Bearer ${redisToken}x` },
          body: JSON.stringify(["set", "hygiene:x", personalValue]),
        })
      ).status,
    ).toBe(401);
    expect(
      (await send("/redis", { method: "POST", headers: { ...json, authorization: basic(kafkaPassword) }, body: "[]" }))
        .status,
    ).toBe(401);
    expect(
      (
        await send("/redis", {
          method: "POST",
          headers: { ...json, authorization: `Bearer ${redisToken}` },
          body: JSON.stringify(["incr", "hygiene:citizen"]),
        })
      ).status,
    ).toBe(400);
    const event = {
      specversion: "1.0",
      id: crypto.randomUUID(),
      source: "/services/identity",
      type: "gov.auth.citizen.created",
      time: new Date().toISOString(),
      data: PERSONAL,
    };
    const body = JSON.stringify({ events: [event] });
    expect(
      (
        await send(MIRROR_PATH, {
          method: "POST",
          headers: { ...json, ...(await signMirrorRequest(mirrorSecret, body)) },
          body,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send(MIRROR_PATH, {
          method: "POST",
          headers: { ...json, ...(await signMirrorRequest(`${mirrorSecret}x`, body)) },
          body,
        })
      ).status,
    ).toBe(401);
    const broken = JSON.stringify({ events: [{ ...event, specversion: "0.3" }] });
    expect(
      (
        await send(MIRROR_PATH, {
          method: "POST",
          headers: { ...json, ...(await signMirrorRequest(mirrorSecret, broken)) },
          body: broken,
        })
      ).status,
    ).toBe(200);

    const output = bridge.output();
    const secrets = { kafkaPassword, redisToken, mirrorSecret };
    for (const [what, value] of Object.entries({ ...PERSONAL, ...secrets })) {
      expect(output.includes(value), `${what} appeared in the bridge's logs`).toBe(false);
      for (const answer of answers.filter((a) => a.status >= 400)) {
        expect(answer.text.includes(value), `${what} appeared in an error body: ${answer.text}`).toBe(false);
      }
    }
  });
});
