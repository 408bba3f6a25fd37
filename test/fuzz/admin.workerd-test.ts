/**
 * Hostile input against the producer's admin API with an admin key, inside workerd with the
 * Hyperdrive binding on the migrated test database. The operations come from `/openapi.json`
 * (tag `admin`), so routes added later are fuzzed without touching this file: hostile path
 * parameters, query parameters and body fields, and damaged bodies. Never 5xx, every rejection
 * in the error shape, and the Worker keeps serving.
 *
 * Requests go through `SELF.fetch` (the Worker's entry point and env), not `app.request()`: each
 * is then a real request whose Postgres sockets workerd closes when it ends, as in production.
 * Inside one test's context they would pile up until Postgres refuses connections (53300).
 *
 * The test database is shared with other suites, so nothing here may change what they see:
 * every body that could start work keeps `dry_run: true` and `rebuild: false` (never attacked),
 * windows lie in the year 2000, type patterns match no catalogue type, and path ids are never
 * small integers (a real dead letter's id) or real job ids.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, describe, expect, inject, it } from "vitest";
import { edgebusErrorProblem } from "./support/error-shape.ts";
import { FuzzTally, fuzzParameters } from "./support/fuzz-settings.ts";
import {
  contentTypes,
  DEEP_NESTING,
  deeplyNested,
  type HostileValue,
  hostileJson,
  hostileValue,
  injectionString,
  serialiseHostile,
  valuePaths,
} from "./support/hostile-inputs.ts";

const postgres = inject("postgresAvailable");
const settings = { runs: inject("fuzzRuns") ?? undefined, seed: inject("fuzzSeed") ?? undefined };
const tally = new FuzzTally("admin");

interface Operation {
  method: string;
  path: string;
  query: string[];
  hasBody: boolean;
}

/**
 * Fields that decide whether a request does work, put first in every body and never attacked
 * (JSON keeps the last of duplicate keys, and the attacks add none of these names).
 */
function safetyFields(path: string): string {
  if (path === "/v1/replay") return '"dry_run":true,"rebuild":false';
  if (path === "/v1/dead-letters/replay") return '"dry_run":true';
  return "";
}

/** A harmless body per operation path: a filter or window that matches nothing, as a dry run. */
function baseBody(path: string): Record<string, unknown> {
  if (path === "/v1/replay") {
    return {
      type: "gov.fuzz.nothing.*",
      from: "2000-01-01T00:00:00Z",
      to: "2000-01-02T00:00:00Z",
      queue: "archive",
      rate_per_second: 1,
    };
  }
  if (path.endsWith("/replay")) {
    return {
      consumer: "fuzz-nobody",
      type: "gov.fuzz.nothing.*",
      from: "2000-01-01T00:00:00Z",
      to: "2000-01-02T00:00:00Z",
    };
  }
  return { reason: "fuzz" };
}

/** A path segment that is never the id of a real dead letter (small integer) or replay job. */
const hostileSegment = fc
  .oneof(
    injectionString.map((text) => {
      try {
        return encodeURIComponent(text);
      } catch {
        return "%ED%A0%80";
      }
    }),
    fc.constantFrom(
      "%",
      "%zz",
      "..",
      "%2e%2e",
      "%00",
      "-1",
      "0",
      "1e400",
      "9007199254740993",
      "18446744073709551616",
      "rj_",
      `rj_${"g".repeat(32)}`,
      "a".repeat(3000),
    ),
  )
  .filter((segment) => !/^\s*\+?\d{1,15}\s*$/.test(decodeSafe(segment)) && segment !== "" && segment !== ".");

/**
 * Refuses to send a body that the admin API would take as real work on the shared test
 * database: for an operation with safety fields, an empty body (read as `{}`) or a JSON object
 * without `dry_run: true`. (A run once cut a body to nothing and redrove every pending dead
 * letter; this guard makes that impossible whatever the generators do.)
 */
function assertNoRealWork(path: string, body: string): void {
  if (safetyFields(path) === "") return;
  if (body.trim() === "") throw new Error(`fuzz refused to send an empty body to ${path} (it would not be a dry run)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return; // not JSON: the API refuses it
  }
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    const fields = parsed as Record<string, unknown>;
    if (fields.dry_run !== true || fields.rebuild === true) {
      throw new Error(`fuzz refused to send ${body.slice(0, 200)} to ${path}: not a dry run`);
    }
  }
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function queryValue(value: HostileValue): string {
  if (value.kind === "json") return typeof value.value === "string" ? value.value : JSON.stringify(value.value);
  return hostileJson(value).slice(0, 20_000);
}

const ORIGIN = "http://producer.test";

describe.skipIf(!postgres)("admin API under hostile input (admin key)", async () => {
  const authorization = `Bearer ${inject("fuzzAdminKey")}`;
  afterAll(() => tally.print());

  const openapi = await SELF.fetch(`${ORIGIN}/openapi.json`);
  const document = (await openapi.json()) as {
    paths: Record<
      string,
      Record<string, { tags?: string[]; parameters?: { name: string; in: string }[]; requestBody?: unknown }>
    >;
  };
  const operations: Operation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, operation]) => operation.tags?.includes("admin"))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        query: (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
        hasBody: operation.requestBody !== undefined,
      })),
  );

  it("the document lists admin operations to fuzz", () => {
    expect(operations.length).toBeGreaterThanOrEqual(3);
  });

  it("hostile path parameters, query parameters, body fields and bodies", async () => {
    const property = "admin operations";
    const request = fc.constantFrom(...operations).chain((operation) => {
      const base = baseBody(operation.path);
      const bodyAttack = fc.oneof(
        fc.constant({ kind: "none" as const }),
        fc
          .record(
            { path: fc.constantFrom(...valuePaths(base), ["extra"]), value: hostileValue },
            { requiredKeys: ["path"] },
          )
          .map((attack) => ({ kind: "field" as const, ...attack })),
        fc.nat().map((cut) => ({ kind: "truncated" as const, cut })),
        fc
          .constantFrom("array", "object")
          .map((shape) => ({ kind: "nested" as const, shape: shape as "array" | "object" })),
        contentTypes(["application/json"]).map((contentType) => ({ kind: "content type" as const, contentType })),
      );
      return fc.record({
        operation: fc.constant(operation),
        segments: fc.array(hostileSegment, { minLength: 2, maxLength: 2 }),
        query:
          operation.query.length === 0
            ? fc.constant([] as [string, HostileValue][])
            : fc.array(fc.tuple(fc.constantFrom(...operation.query), hostileValue), { maxLength: 3 }),
        body: bodyAttack,
      });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ operation, segments, query, body: attack }) => {
        let segment = 0;
        const path = operation.path.replace(/\{[^}]+\}/g, () => segments[segment++] ?? "x");
        const search = new URLSearchParams(query.map(([name, value]) => [name, queryValue(value)])).toString();
        const headers: Record<string, string> = { authorization, "Content-Type": "application/json" };
        let body: string | undefined;
        if (operation.hasBody || operation.method === "POST") {
          const base = { ...baseBody(operation.path) };
          if (attack.kind === "field") body = serialiseHostile(base, attack.path, attack.value);
          else body = JSON.stringify(base);
          // Re-applied after any attack: these two decide whether anything is sent or emptied.
          const safety = safetyFields(operation.path);
          if (safety !== "" && body.startsWith("{")) body = `{${safety},${body.slice(1)}`.replace(",}", "}");
          // Never cut to nothing: an empty body means `{}`, and `{}` is not a dry run.
          if (attack.kind === "truncated") body = body.slice(0, 1 + (attack.cut % Math.max(1, body.length - 1)));
          // An object nest would be `{}`-like work to the guard below; arrays say the same thing to the API.
          if (attack.kind === "nested") body = deeplyNested(DEEP_NESTING, safety === "" ? attack.shape : "array");
          if (attack.kind === "content type") {
            if (attack.contentType === undefined) delete headers["Content-Type"];
            else headers["Content-Type"] = attack.contentType;
          }
        }
        if (body !== undefined && operation.method !== "GET") assertNoRealWork(operation.path, body);
        const url = `${path}${search === "" ? "" : `?${search}`}`;
        const response = await SELF.fetch(`${ORIGIN}${url}`, {
          method: operation.method,
          headers,
          ...(body === undefined || operation.method === "GET" ? {} : { body }),
        });
        const text = await response.text();
        const what = `${operation.method} ${url.slice(0, 200)} → ${response.status} ${text.slice(0, 300)}`;
        expect(response.status, what).toBeLessThan(500);
        if (response.status >= 400) expect(edgebusErrorProblem(response.status, text), what).toBeUndefined();
        tally.record(property, response.status);
      }),
      fuzzParameters(settings, 150),
    );
    const stillServing = await SELF.fetch(`${ORIGIN}/v1/dead-letters?limit=1`, { headers: { authorization } });
    expect(stillServing.status, await stillServing.text()).toBe(200);
  });
});
