/**
 * globalSetup for the kafka-mirror tests: a local HTTP server speaking the bridge's mirror
 * protocol (shared/src/mirror-protocol.ts) that verifies every request's HMAC signature with
 * the real `verifyMirrorRequest` and answers per event as the event's `data.mirror` asks
 * (`acked` default, `transient`, `permanent`, `omit`, or `status-<code>` for the whole request).
 * `GET /received` lists what it accepted, so tests can assert what reached "Kafka".
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { verifyMirrorRequest } from "#shared/mirror-signature.ts";

export const MIRROR_TEST_SECRET = "kafka-mirror-test-secret-0123456789";

declare module "vitest" {
  export interface ProvidedContext {
    mirrorUrl: string;
    mirrorSecret: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const received: { id: string; source: string; type: string }[] = [];
  let offset = 0;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(payload));
    };
    if (request.method === "GET" && request.url === "/received") return reply(200, received);
    if (request.method !== "POST" || request.url !== "/v1/mirror") return reply(404, { error: "not found" });
    const check = await verifyMirrorRequest(MIRROR_TEST_SECRET, body, {
      get: (name) => {
        const value = request.headers[name.toLowerCase()];
        return typeof value === "string" ? value : null;
      },
    });
    if (!check.ok) return reply(401, { error: { code: "unauthorized", message: check.reason } });
    const { events } = JSON.parse(body) as {
      events: { id: string; source: string; type: string; data?: { mirror?: string } }[];
    };
    const wholeRequest = events.map((e) => e.data?.mirror ?? "").find((m) => m.startsWith("status-"));
    if (wholeRequest) {
      const status = Number(wholeRequest.slice("status-".length));
      return reply(status, { error: { code: "test", message: `asked for ${status}` } }, { "retry-after": "30" });
    }
    const results = [];
    for (const event of events) {
      const mode = event.data?.mirror ?? "acked";
      if (mode === "omit") continue;
      if (mode === "acked") {
        received.push({ id: event.id, source: event.source, type: event.type });
        results.push({
          id: event.id,
          source: event.source,
          status: "acked",
          topic: "t",
          partition: 0,
          offset: offset++,
        });
      } else
        results.push({
          id: event.id,
          source: event.source,
          status: "failed",
          error: {
            code: mode === "transient" ? "not_enough_replicas" : "record_too_large",
            message: `test ${mode} failure`,
            retryable: mode === "transient",
          },
        });
    }
    reply(200, { results });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("mirrorUrl", `http://127.0.0.1:${port}/v1/mirror`);
  project.provide("mirrorSecret", MIRROR_TEST_SECRET);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
