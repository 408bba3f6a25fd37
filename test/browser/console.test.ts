/**
 * The operator console in a real browser (Debian's chromium through playwright-core) against
 * `npm run dev` with real Postgres (a database of its own), Kafka and Redis:
 *
 * 1. sign in with the dev key: the session cookie is HttpOnly and SameSite=Strict; the Overview
 *    shows every dependency healthy;
 * 2. Catalogue: a type's versions, schema and example; "publish this example" gets a receipt;
 * 3. Live tail: an event published through the API arrives on the page;
 * 4. Dead letters: a poison event (the verification of a citizen nobody registered) becomes a
 *    dead letter in both citizen-sync queues; its twin is discarded with a reason; the cause is
 *    fixed (the citizen's registration is published); "Redrive matching…" shows the dry-run count,
 *    is confirmed, its job is followed to the end, and the citizen's row in
 *    permits.citizen_refs then carries the verification;
 * 5. Replay: a dry run counts the archived events; a slow replay shows its progress and ETA and
 *    is cancelled;
 * 6. a phone-sized viewport; a metrics-only key's session sees personal data masked;
 * 7. the Overview after some traffic; sign out: the cookie is gone, and neither a cookie-less request nor the old cookie is served.
 *
 * Every page must load without console errors or failed requests (checked after each test).
 * Screenshots of each page go to CONSOLE_SCREENSHOTS_DIR (docs/img for the committed ones) or
 * .cache/test-results/console.
 *
 * Needs Postgres, Redis, Kafka and chromium (CHROMIUM_PATH, default /usr/bin/chromium); under
 * CI=true a missing one fails the suite. Ports 18961–18963.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Admin } from "@platformatic/kafka";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../schemas/index.ts";
import { isCI, serviceUrls } from "../../scripts/service-probe.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import { eventually, useDevStack } from "../e2e/dev-stack-process.ts";
import { requireService } from "../support/services.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SUITE = "test/browser/console";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.resolve(root, process.env.CONSOLE_SCREENSHOTS_DIR ?? ".cache/test-results/console");

async function requirements(): Promise<boolean> {
  const servers = [
    await requireService("postgres", SUITE),
    await requireService("redis", SUITE),
    await requireService("kafka", SUITE),
  ];
  if (!existsSync(CHROMIUM)) {
    const message = `${SUITE}: no chromium at ${CHROMIUM} — apt-get install chromium, or set CHROMIUM_PATH`;
    if (isCI) throw new Error(`${message} (CI=true: a missing browser fails the run)`);
    console.warn(`SKIPPED ${message}`);
    return false;
  }
  return servers.every(Boolean);
}

const available = await requirements();
const run = crypto.randomUUID().slice(0, 8);
const databaseName = `edgebus_browser_${run}`;
const metricsKey = generateApiKey();
const example = (type: string) => structuredClone(governmentCatalogue.require(type).example) as Record<string, unknown>;

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field and asserted
type Json = Record<string, any>;

function databaseUrl(name: string): string {
  const url = new URL(serviceUrls.postgres);
  url.pathname = `/${name}`;
  return url.toString();
}

let dev: ReturnType<typeof useDevStack>;
let admin: postgres.Sql;
let db: postgres.Sql;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors, page errors and failed requests since the last check. */
let problems: string[] = [];
/** expect.poll waits 1 s by default: too short for a loaded machine. */
const POLL = { timeout: 20_000, interval: 200 };

function watch(target: Page): void {
  target.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  target.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  target.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "failed";
    // Closing an EventSource (stopping the live tail, leaving the page) aborts its request.
    if (reason === "net::ERR_ABORTED" && request.url().includes("/stream")) return;
    problems.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
  });
  target.on("response", (response) => {
    if (response.status() >= 400)
      problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
}

/** Every visible form control has a label (or an ARIA name) and every page one h1: checked on each screenshot. */
async function assertAccessibleBasics(target: Page): Promise<void> {
  const unlabelled = await target.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .filter(
        (el) =>
          ((el as HTMLInputElement).labels?.length ?? 0) === 0 &&
          !el.getAttribute("aria-label") &&
          !el.getAttribute("aria-labelledby"),
      )
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  expect(unlabelled, "form controls without a label").toEqual([]);
  expect(await target.locator("h1").count()).toBe(1);
}

async function shot(name: string, target: Page = page): Promise<void> {
  await assertAccessibleBasics(target);
  await mkdir(SHOTS, { recursive: true });
  await target.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
}

/** Publishes through the API with the dev key (as a service would). */
async function publish(event: Json): Promise<Json> {
  const response = await fetch(`${dev.stack.info.producer}/v1/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${dev.stack.info.apiKey}`, "Content-Type": "application/cloudevents+json" },
    body: JSON.stringify(event),
  });
  const body = (await response.json()) as Json;
  expect(response.status, JSON.stringify(body)).toBe(202);
  return body;
}

function citizenEvent(type: string, id: number, version: number, data: Json): Json {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/services/identity",
    type,
    eventversion: version,
    data: { ...data, id },
  };
}

async function nav(name: string): Promise<void> {
  await page.getByRole("link", { name, exact: true }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

describe.skipIf(!available)("operator console in chromium against npm run dev", () => {
  beforeAll(async () => {
    admin = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${databaseName}`);
    db = postgres(databaseUrl(databaseName), { max: 2, onnotice: () => {} });
  });

  // Runs last (after the stack stopped, so its bridge left the group): the Kafka consumer group
  // the last test made is deleted from the shared cluster.
  afterAll(async () => {
    await browser?.close();
    const kafka = new Admin({ clientId: "console-browser-test", bootstrapBrokers: serviceUrls.kafkaBrokers });
    try {
      if ((await kafka.listGroups()).has(`console-test-${run}`))
        await kafka.deleteGroups({ groups: [`console-test-${run}`] });
    } catch (error) {
      console.warn(`could not delete the consumer group console-test-${run}: ${String(error)}`);
    } finally {
      await kafka.close();
    }
    await db?.end({ timeout: 5 });
    await admin?.unsafe(`drop database if exists ${databaseName} with (force)`).catch(() => {});
    await admin?.end({ timeout: 5 });
  }, 60_000);

  dev = useDevStack(async () => ({
    port: 18961,
    bridgePort: 18962,
    providerPort: 18963,
    env: {
      DATABASE_URL: databaseUrl(databaseName),
      KAFKA_BROKERS: serviceUrls.kafkaBrokers.join(","),
      REDIS_URL: serviceUrls.redis,
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify([
        { id: "scraper", hash: await hashApiKey(metricsKey), scopes: ["metrics"] },
      ]),
    },
  }));

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: "light" });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    watch(page);
  }, 60_000);

  afterEach(() => {
    const seen = problems;
    problems = [];
    expect(seen, "console errors or failed requests").toEqual([]);
  });

  it("signs in with the dev key into an HttpOnly, SameSite=Strict session; the Overview shows every dependency", async () => {
    await page.goto(`${dev.stack.info.producer}/console`);
    // Keyboard only: the key field has the focus, Enter submits.
    await page.getByLabel("API key").waitFor();
    await page.keyboard.type(dev.stack.info.apiKey);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    const [cookie] = (await context.cookies()).filter((c) => c.name === "edgebus_console");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(await page.evaluate(() => document.cookie)).toBe("");
    const health = page.getByRole("list", { name: "Dependency health" });
    await expect.poll(() => health.getByText("● healthy").count(), { timeout: 30_000 }).toBe(5);
    // The second refresh turns totals into rates.
    await page.getByText("Rates over the last refresh").waitFor({ timeout: 30_000 });
  }, 90_000);

  it("Catalogue: versions, JSON Schema, example, routes; 'publish this example' answers with a receipt", async () => {
    await nav("Catalogue");
    const entry = page.locator('details[data-type="gov.auth.citizen.created"]');
    await entry.locator("summary").first().click();
    await expect.poll(() => entry.getByText("Version 3 (current): JSON Schema").count(), POLL).toBe(1);
    await entry.getByRole("button", { name: "Publish this example" }).click();
    await entry.getByText(/^Published .* \(accepted\) to permits-citizen-sync/).waitFor();
    await shot("catalogue");
  }, 60_000);

  it("Live tail: an event published through the API arrives on the page", async () => {
    await nav("Live tail");
    await page.getByLabel("Topic").selectOption("gov.auth.citizen");
    await page.getByLabel("Type (glob)").fill("gov.auth.citizen.*");
    await page.getByRole("button", { name: "Start" }).click();
    await page.getByText(/^Following gov\.auth\.citizen/).waitFor();
    const event = citizenEvent("gov.auth.citizen.created", 880_000_001, 1, {
      ...example("gov.auth.citizen.created"),
      name: `Tail ${run}`,
    });
    await publish(event);
    const arrived = page.locator(`details[data-event-id="${event.id}"]`);
    await arrived.waitFor({ timeout: 30_000 });
    await arrived.locator("summary").click();
    await expect.poll(() => arrived.locator("pre").textContent(), POLL).toContain(`Tail ${run}`);
    await shot("live-tail");
    await page.getByRole("button", { name: "Stop" }).click();
  }, 60_000);

  it("Dead letters: a poison event is dead-lettered, its twin discarded, and after the fix the redrive reaches citizen_refs", async () => {
    const ghost = 880_000_100;
    const poison = citizenEvent("gov.auth.citizen.verified", ghost, 2, example("gov.auth.citizen.verified"));
    await publish(poison);
    await nav("Dead letters");
    await page.getByLabel("Type (glob)").fill("gov.auth.citizen.verified");
    const rows = page.locator(`tr[data-event-id="${poison.id}"]`);
    // Retried five times with backoff by each citizen-sync consumer, then dead-lettered.
    await eventually(
      "the poison's dead letters in both citizen-sync queues",
      async () => {
        await page.getByRole("button", { name: "Filter" }).click();
        await page.waitForLoadState("networkidle");
        return (await rows.count()) === 2 ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 3000 },
    );
    const permitsRow = rows.filter({ hasText: "permits-citizen-sync" });
    await permitsRow.getByRole("button", { name: "Inspect" }).click();
    await page.getByText("Error history").waitFor();
    await expect.poll(() => page.locator("[data-inspected] pre").last().textContent(), POLL).toContain(poison.id);
    await shot("dead-letters-inspect");

    // Discard the revenue copy, with a reason.
    await rows.filter({ hasText: "revenue-citizen-sync" }).getByRole("button", { name: "Discard" }).click();
    await page.getByLabel("Reason").fill("revenue does not need this verification (browser test)");
    await page.getByRole("dialog").getByRole("button", { name: "Discard" }).click();
    await page.getByText(/discarded\.$/).waitFor();
    await expect.poll(() => rows.count(), POLL).toBe(1);
    const discarded =
      await db`select status, discarded_reason from edgebus.dead_letters where event_id = ${poison.id} and queue = 'revenue-citizen-sync'`;
    expect(discarded[0]).toMatchObject({
      status: "discarded",
      discarded_reason: expect.stringContaining("browser test"),
    });

    // Fix the cause: the citizen registers; the row exists, not yet verified.
    await publish(citizenEvent("gov.auth.citizen.created", ghost, 1, example("gov.auth.citizen.created")));
    const before = await eventually("the citizen's row in permits.citizen_refs", async () => {
      const [row] = await db`select identity_verified from permits.citizen_refs where citizen_id = ${ghost}`;
      return row;
    });
    expect(before.identity_verified).toBe(false);

    // Redrive after a dry-run count and a confirmation; follow the job.
    await page.getByLabel("Queue").selectOption("permits-citizen-sync");
    await page.getByRole("button", { name: "Redrive matching…" }).click();
    const dialog = page.getByRole("dialog");
    await expect.poll(() => dialog.locator("[data-dry-run-count]").getAttribute("data-dry-run-count"), POLL).toBe("1");
    await dialog.getByRole("button", { name: "Redrive 1" }).click();
    const job = page.locator("[data-job-id]");
    await expect.poll(() => job.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
    await expect.poll(() => job.textContent(), POLL).toContain("1 of 1 sent");
    await shot("dead-letters-redrive");
    const after = await eventually(
      "the redriven verification in permits.citizen_refs",
      async () => {
        const [row] = await db`select identity_verified from permits.citizen_refs where citizen_id = ${ghost}`;
        return row?.identity_verified === true ? row : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(after.identity_verified).toBe(true);
  }, 300_000);

  it("Replay: a dry run counts the archived events; a slow replay shows progress and ETA and is cancelled", async () => {
    await nav("Replay");
    await page.getByLabel("Type (glob)").fill("gov.auth.citizen.*");
    await page.getByLabel("Into queue").selectOption("permits-citizen-sync");
    await page.getByLabel("Messages/s").fill("1");
    await page.getByRole("button", { name: "Dry run" }).click();
    const dry = page.locator("[data-dry-run-count]");
    await dry.waitFor();
    const matched = Number(await dry.getAttribute("data-dry-run-count"));
    const [archived] =
      await db`select count(*)::int as n from edgebus.event_archive where type like 'gov.auth.citizen.%'`;
    expect(matched).toBe(archived?.n);
    // At least the catalogue's example, the poison and the ghost's registration (with the live
    // tail's event, four) — but the count must be the archive's, whatever it is.
    expect(matched).toBeGreaterThanOrEqual(3);
    await shot("replay-dry-run");
    await dry.getByRole("button", { name: /^Start: / }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Replay" }).click();
    const job = page.locator("[data-job-id]");
    await expect.poll(() => job.getAttribute("data-status"), POLL).toBe("running");
    await expect.poll(() => job.textContent(), POLL).toMatch(/left/);
    await shot("replay-progress");
    await job.getByRole("button", { name: "Cancel job" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel job" }).click();
    await expect.poll(() => job.getAttribute("data-status"), { timeout: 20_000 }).toBe("cancelled");
  }, 90_000);

  it("fits a phone; a metrics-only key's session is read-only and sees personal data masked", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    watch(small);
    await small.goto(`${dev.stack.info.producer}/console/`);
    await small.getByLabel("API key").fill(metricsKey);
    await small.getByRole("button", { name: "Sign in" }).click();
    await small.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await small.getByText("scraper (read-only").waitFor();
    await expect.poll(() => small.getByText("● healthy").count(), { timeout: 30_000 }).toBe(5);
    const width = await small.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await shot("overview-phone", small);
    await small.getByRole("link", { name: "Dead letters" }).click();
    await small.getByText("needs an admin key").waitFor();
    const tail = await small.evaluate(async () => {
      const response = await fetch("/console/api/topics/gov.auth.citizen/events?limit=50");
      return (await response.json()) as Json;
    });
    expect(tail.masked).toBe(true);
    const data = (tail.events as Json[]).map((e) => e.event?.data).filter((d) => d?.id === 880_000_001);
    expect(data[0]).toMatchObject({ name: "•••", email: "•••", phone: "•••", address: "•••" });
    await phone.close();
  }, 60_000);

  it("sign out ends the session: the cookie is cleared, and neither a cookie-less request nor the old cookie is served", async () => {
    // A Kafka consumer group that read gov.auth.citizen and committed (through the bridge's Kafka
    // REST, as a service would), so the Overview has a group and its lag to show.
    const login = dev.stack.info.bridge?.kafkaRest;
    if (login === undefined) throw new Error("npm run dev started no Kafka REST gateway");
    const kafkaRest = async (route: string, body: unknown) => {
      const response = await fetch(`${dev.stack.info.bridge?.url}/kafka${route}`, {
        method: "POST",
        headers: {
          Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`,
          "Content-Type": "application/json",
          "Kafka-Auto-Offset-Reset": "earliest",
        },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as unknown;
    };
    await kafkaRest(`/consume/console-test-${run}/i1`, { topic: "gov.auth.citizen", timeout: 5000 });
    // Committed at the start of every partition: everything in the topic is the group's lag.
    await kafkaRest(
      `/commit/console-test-${run}/i1`,
      Array.from({ length: governmentCatalogue.partitionsOf("gov.auth.citizen") }, (_, partition) => ({
        topic: "gov.auth.citizen",
        partition,
        offset: 0,
      })),
    );

    // The Overview with some traffic: a batch published between two refreshes shows as rates,
    // and as lag of the group that stopped reading.
    await nav("Overview");
    await page.getByText(/^Updated /).waitFor({ timeout: 30_000 });
    const batch = Array.from({ length: 30 }, (_, i) =>
      citizenEvent("gov.auth.citizen.created", 880_000_200 + i, 1, example("gov.auth.citizen.created")),
    );
    const published = await fetch(`${dev.stack.info.producer}/v1/events/batch`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${dev.stack.info.apiKey}`,
        "Content-Type": "application/cloudevents-batch+json",
      },
      body: JSON.stringify(batch),
    });
    expect(published.status).toBe(200);
    await published.body?.cancel();
    await page.getByText("Rates over the last refresh").waitFor({ timeout: 60_000 });
    const groupRow = page.locator("tr", { hasText: `console-test-${run}` });
    await expect
      .poll(async () => Number(await groupRow.locator("td").last().textContent()), { timeout: 40_000 })
      .toBeGreaterThan(0);
    await shot("overview");
    const [cookie] = (await context.cookies()).filter((c) => c.name === "edgebus_console");
    expect(cookie).toBeDefined();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    expect((await context.cookies()).filter((c) => c.name === "edgebus_console")).toEqual([]);
    await shot("sign-in");
    const overview = `${dev.stack.info.producer}/console/api/overview`;
    const without = await fetch(overview);
    expect(without.status).toBe(401);
    expect(((await without.json()) as Json).error.code).toBe("unauthorized");
    const replayed = await fetch(overview, { headers: { Cookie: `${cookie?.name}=${cookie?.value}` } });
    expect(replayed.status).toBe(401);
  }, 120_000);
});
