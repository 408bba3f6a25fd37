/**
 * docs/seed-events.md shows each of the government design's examples beside the event edgebus
 * publishes for it. Both blocks are checked here: the first is the fixture
 * (test/fixtures/seed-events/), the second what the producer's steps (parse → upcast → stamp →
 * normalise) make of it, so the page cannot drift from the code.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../schemas/index.ts";
import type { Principal } from "../workers/producer/src/auth/authenticate.ts";
import { parseSingleEvent } from "../workers/producer/src/envelope/http-binding.ts";
import { normaliseEvent } from "../workers/producer/src/envelope/normalise.ts";
import { upcastEvent } from "../workers/producer/src/envelope/upcast.ts";
import { stampPublisher } from "../workers/producer/src/publisher-stamp.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const page = readFileSync(path.join(root, "docs/seed-events.md"), "utf8");

const authService: Principal = {
  id: "auth-service",
  hash: "0".repeat(64),
  sources: ["/auth-service"],
  types: ["gov.auth.citizen.*"],
  admin: false,
  scopes: [],
};

/** The ```json blocks of the section headed "### `citizen.<name>`". */
function blocksOf(name: string): unknown[] {
  const start = page.indexOf(`### \`citizen.${name}\``);
  expect(start, `docs/seed-events.md has a section for citizen.${name}`).toBeGreaterThanOrEqual(0);
  const end = page.indexOf("\n## ", start);
  const section = page.slice(start, end === -1 ? undefined : end).split("\n### ")[0] ?? "";
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1] ?? ""));
}

/** What the producer publishes for a request body (the auth service's key). */
function published(body: string): unknown {
  const incoming = parseSingleEvent(new Headers({ "content-type": "application/json" }), body, {
    missingSource: () => "/auth-service",
  });
  const { attributes } = upcastEvent(incoming, governmentCatalogue);
  const event = normaliseEvent(stampPublisher(attributes, authService), governmentCatalogue, { mode: incoming.mode });
  return JSON.parse(JSON.stringify(event));
}

describe("docs/seed-events.md", () => {
  it.each(["created", "updated", "verified"])(
    "citizen.%s: the design's example beside what edgebus publishes",
    (name) => {
      const fixture = readFileSync(path.join(root, "test/fixtures/seed-events", `citizen.${name}.json`), "utf8");
      const [sent, publishedEvent, ...rest] = blocksOf(name);
      expect(rest).toEqual([]);
      expect(sent).toEqual(JSON.parse(fixture));
      expect(publishedEvent).toEqual(published(fixture));
    },
  );
});
