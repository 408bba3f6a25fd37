/**
 * Secrets and personal data never appear in the producer's logs or error bodies. Events carrying
 * a citizen's name, email, phone and address go through the success path and through failure
 * paths (schema violation, unknown key, forbidden scope, Kafka and Redis refusing the producer's
 * credentials, malformed body); every console line the Worker writes meanwhile is captured, and
 * neither the logs nor any error body may contain the personal data, the API key, the Redis REST
 * token or the Kafka REST password.
 */
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { bearer, mintKey, structuredEvent } from "../../workers/producer/src/producer-test-harness.ts";
import { producerBackendEnv } from "../fuzz/support/fuzz-bridge.ts";
import { ProducerUnderFuzz } from "../fuzz/workerd/producer-under-fuzz.ts";

const bridge = inject("fuzzBridge");

/** Distinctive values, so finding one anywhere means it leaked. */
const PERSONAL = {
  name: "Zorblat Quenby-Marsh",
  email: "zorblat.quenby@example.org",
  phone: "+353871234509",
  line1: "42 Quenby Secret Lane",
  postal_code: "D09 QX77",
};

function citizenEvent(overrides: Record<string, unknown> = {}) {
  const event = structuredEvent("gov.auth.citizen.created");
  const data = event.data as Record<string, unknown>;
  data.name = PERSONAL.name;
  data.email = PERSONAL.email;
  data.phone = PERSONAL.phone;
  data.address = { line1: PERSONAL.line1, city: "Dublin", postal_code: PERSONAL.postal_code, country: "IE" };
  Object.assign(data, overrides);
  return event;
}

describe.skipIf(bridge === null)("producer logs and error bodies hold no secrets or personal data", async () => {
  if (bridge === null) return;
  const key = await mintKey({ sources: ["/services/identity"], types: ["gov.auth.**"] });
  const producer = new ProducerUnderFuzz(bridge, [key]);
  const logged: string[] = [];
  const bodies: string[] = [];
  const secrets = {
    apiKey: key.key,
    redisToken: bridge.redisToken,
    kafkaPassword: bridge.kafkaPassword,
  };

  beforeEach(() => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === "string" ? a : (JSON.stringify(a) ?? String(a)))).join(" "));
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());

  async function send(env: Record<string, unknown>, body: string, headers: Record<string, string>) {
    const response = await producer.app.request("/v1/events", { method: "POST", body, headers }, env);
    const text = await response.text();
    if (response.status >= 400) bodies.push(text);
    return { status: response.status, text };
  }

  const CE = { "Content-Type": "application/cloudevents+json" };

  it("success and every failure path", async () => {
    const ok = await send(producer.env, JSON.stringify(citizenEvent()), { ...CE, ...bearer(key) });
    expect(ok.status, ok.text).toBe(202);

    const invalid = await send(
      producer.env,
      JSON.stringify(citizenEvent({ email: `not an email ${PERSONAL.email}` })),
      {
        ...CE,
        ...bearer(key),
      },
    );
    expect(invalid.status, invalid.text).toBe(422);

    const typo = await send(producer.env, JSON.stringify(citizenEvent({ phone: 353871234509, extra: PERSONAL.name })), {
      ...CE,
      ...bearer(key),
    });
    expect(typo.status, typo.text).toBe(422);

    const unknownKey = await send(producer.env, JSON.stringify(citizenEvent()), {
      ...CE,
      Authorization: `Bearer ${secrets.apiKey}x`,
    });
    expect(unknownKey.status).toBe(401);

    const forbidden = await send(producer.env, JSON.stringify({ ...citizenEvent(), source: "/services/revenue" }), {
      ...CE,
      ...bearer(key),
    });
    expect(forbidden.status).toBe(403);

    const malformed = await send(producer.env, JSON.stringify(citizenEvent()).slice(0, -20), { ...CE, ...bearer(key) });
    expect(malformed.status).toBe(400);

    // Kafka refuses the producer's credentials: the publish fails (503) and is logged.
    const wrongKafka = {
      ...producer.env,
      ...producerBackendEnv(bridge),
      UPSTASH_KAFKA_REST_PASSWORD: `${secrets.kafkaPassword}-rotated`,
    };
    const kafkaDown = await send(wrongKafka, JSON.stringify(citizenEvent()), { ...CE, ...bearer(key) });
    expect(kafkaDown.status, kafkaDown.text).toBe(503);

    // Redis refuses the producer's token: dedup and rate limits fail (503) and are logged.
    const wrongRedis = { ...producer.env, UPSTASH_REDIS_REST_TOKEN: `${secrets.redisToken}-rotated` };
    const redisDown = await send(wrongRedis, JSON.stringify(citizenEvent()), { ...CE, ...bearer(key) });
    expect(redisDown.status, redisDown.text).toBe(503);

    // The failure paths above must have logged something, or this test would prove nothing.
    expect(logged.length, "the Worker logged nothing on upstream failures").toBeGreaterThan(0);
    const haystacks = [
      ...logged.map((line) => ["log", line] as const),
      ...bodies.map((b) => ["error body", b] as const),
    ];
    for (const [where, text] of haystacks) {
      for (const [what, value] of Object.entries({ ...PERSONAL, ...secrets })) {
        expect(text.includes(value), `${what} appeared in a ${where}: ${text.slice(0, 400)}`).toBe(false);
      }
    }
  });
});
