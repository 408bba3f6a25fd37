import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { NONCE_HEADER, verifyMirrorRequest } from "#shared/mirror-signature.ts";
import { queueMessage } from "../../../test/support/queue-delivery.ts";
import { kafkaMirrorEnvSchema } from "./config.ts";
import { handleMirrorBatch } from "./index.ts";
import { postMirrorBatch } from "./mirror-client.ts";

const secret = "edge-security-secret-0123456789";
const base = { ...env, BRIDGE_MIRROR_SECRET: secret, MAX_RETRIES: "10" };

function event(): CloudEventRecord {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/mirror/edge",
    type: "gov.permits.application.submitted",
    time: "2026-11-22T08:00:00Z",
    data: {},
  };
}

/** A fetch that records every request and answers as told. */
function recordingFetch(answer: () => Response) {
  const requests: { url: string; headers: Headers; body: string }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    requests.push({ url, headers: new Headers(init.headers), body: String(init.body) });
    return answer();
  }) as unknown as typeof fetch;
  return { requests, fetchImpl };
}

afterEach(() => vi.restoreAllMocks());

describe("kafka-mirror: the bridge URL in production", () => {
  const parse = (vars: Record<string, unknown>) => kafkaMirrorEnvSchema.safeParse({ ...base, ...vars });

  it("refuses a remote http:// bridge when ENVIRONMENT is production, staging or unset", () => {
    for (const vars of [
      { ENVIRONMENT: "production", BRIDGE_MIRROR_URL: "http://bridge.example.gov/v1/mirror" },
      { ENVIRONMENT: "staging", BRIDGE_MIRROR_URL: "http://bridge.example.gov/v1/mirror" },
      { ENVIRONMENT: undefined, BRIDGE_MIRROR_URL: "http://10.0.0.7:8788/v1/mirror" },
      { ENVIRONMENT: "", BRIDGE_MIRROR_URL: "http://10.0.0.7:8788/v1/mirror" },
    ]) {
      const result = parse(vars);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]).toMatchObject({
        path: ["BRIDGE_MIRROR_URL"],
        message: expect.stringMatching(/must be https:\/\/ in (production|staging)/),
      });
    }
    expect(parse({ ENVIRONMENT: "prod", BRIDGE_MIRROR_URL: "https://bridge.example.gov/v1/mirror" }).success).toBe(
      false,
    );
  });

  it("allows https://, the same machine over http://, and any URL outside production", () => {
    for (const vars of [
      { ENVIRONMENT: "production", BRIDGE_MIRROR_URL: "https://bridge.example.gov/v1/mirror" },
      { ENVIRONMENT: "production", BRIDGE_MIRROR_URL: "http://127.0.0.1:8788/v1/mirror" },
      { ENVIRONMENT: "production", BRIDGE_MIRROR_URL: "http://localhost:8788/v1/mirror" },
      { ENVIRONMENT: "production", BRIDGE_MIRROR_URL: "http://[::1]:8788/v1/mirror" },
      { ENVIRONMENT: "development", BRIDGE_MIRROR_URL: "http://bridge.lan:8788/v1/mirror" },
    ]) {
      expect(parse(vars).success, JSON.stringify(vars)).toBe(true);
    }
  });

  it("holds the batch (nothing sent, nothing dead-lettered) and says why, with a remote http:// bridge in production", async () => {
    const { requests, fetchImpl } = recordingFetch(() => new Response("{}", { status: 200 }));
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => logged.push(line));
    const retried: string[] = [];
    await handleMirrorBatch(
      {
        queue: "kafka-mirror",
        messages: [{ ...queueMessage(event()), ack: () => {}, retry: () => retried.push("m") }],
      },
      { ...base, ENVIRONMENT: "production", BRIDGE_MIRROR_URL: "http://bridge.example.gov/v1/mirror" },
      fetchImpl,
    );
    expect(requests).toEqual([]);
    expect(retried).toEqual(["m"]);
    expect(logged.join("\n")).toMatch(/invalid configuration.*BRIDGE_MIRROR_URL: must be https:\/\/ in production/);
  });
});

describe("kafka-mirror: replay protection", () => {
  it("signs every request, retries included, with a fresh nonce the bridge can verify", async () => {
    const { requests, fetchImpl } = recordingFetch(
      () => new Response(JSON.stringify({ results: [] }), { status: 200 }),
    );
    const events = [event()];
    const options = { url: "https://bridge.example.gov/v1/mirror", secret, timeoutMs: 1000, fetch: fetchImpl };
    await postMirrorBatch(events, options);
    await postMirrorBatch(events, options);
    expect(requests).toHaveLength(2);
    const [first, second] = requests;
    expect(first?.body).toBe(second?.body);
    expect(first?.headers.get(NONCE_HEADER)).toMatch(/^[0-9a-f]{32}$/);
    expect(first?.headers.get(NONCE_HEADER)).not.toBe(second?.headers.get(NONCE_HEADER));
    for (const request of requests) {
      expect(await verifyMirrorRequest(secret, request.body, request.headers)).toMatchObject({ ok: true });
    }
  });

  it("retries a batch the bridge refused as a replay (409): the retry carries a new nonce", async () => {
    const { fetchImpl } = recordingFetch(
      () =>
        new Response(JSON.stringify({ error: { code: "conflict", message: "nonce was already used" } }), {
          status: 409,
        }),
    );
    const failure = await postMirrorBatch([event()], {
      url: "https://bridge.example.gov/v1/mirror",
      secret,
      timeoutMs: 1000,
      fetch: fetchImpl,
    }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ retryable: true, details: { status: 409 } });
  });
});
