/**
 * `npm run demo`: publishes a short, realistic story to the running dev stack (`npm run dev`)
 * and shows what each part of edgebus did with it:
 *
 * 1. two citizens register; one changes details twice, and the later change (eventversion 3) is
 *    published BEFORE the earlier one (2) — the read models must end on version 3;
 * 2. a permit application is submitted and approved;
 * 3. one payment completes, another fails — and the revenue service queues a push notification
 *    about it to the citizen's phone (`gov.notification.push.queued`): the phone's subscription
 *    is made at the local push service and registered through
 *    `POST /v1/citizens/{id}/push-subscriptions`; the notifier encrypts the push (RFC 8291) and
 *    signs it (VAPID), and the push service decrypts it with the phone's private key;
 * 4. a poison event: a verification of a citizen who never registered — valid for the API, but
 *    citizen-sync cannot apply it to a citizen it does not know; it retries with backoff (the
 *    registration might still be in flight), then dead-letters it into `edgebus.dead_letters`.
 *    (A citizen event without `eventversion`, the earlier poison, is now refused by the API.)
 *
 * Then it prints the rows in `permits.citizen_refs` and `revenue.citizen_refs`, the
 * notifications sent (and the local provider's inbox), the dead letter, and Kafka offsets from
 * the receipts when Kafka is on. Event data starts from the catalogue's own examples
 * (`GET /v1/schemas/{type}`), so the story stays valid as the catalogue evolves.
 *
 * `npm run demo -- --catalogue commerce` (or `learning`) instead publishes one event of every type
 * of that catalogue in its own envelope (`demo-catalogue.ts`); start the stack with
 * `npm run dev -- --catalogues gov,commerce,learning`.
 *
 * Reads the stack's URLs and key from `.dev-data/dev-stack.json` (written by `npm run dev`).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { z } from "zod";
import { catalogueDemo } from "./demo-catalogue.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SETTLE_TIMEOUT_MS = 60_000;

const devStackSchema = z.object({
  producer: z.string().url(),
  apiKey: z.string().min(1),
  providerUrl: z.string().url(),
  databaseUrl: z.string().min(1),
  kafkaBrokers: z.string().optional(),
  vapidPublicKey: z.string().optional(),
});
type DevStack = z.infer<typeof devStackSchema>;

const receiptSchema = z.object({
  id: z.string(),
  type: z.string(),
  status: z.string(),
  kafka: z.object({ topic: z.string(), partition: z.number(), offset: z.number() }).nullable(),
  queues: z.array(z.string()),
});

type Data = Record<string, unknown>;
interface StoryEvent {
  label: string;
  type: string;
  data: Data;
  eventversion?: number;
}

async function loadStack(): Promise<DevStack> {
  const file = path.join(root, ".dev-data", "dev-stack.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`${path.relative(root, file)} not found: start the stack first with \`npm run dev\``);
  }
  const stack = devStackSchema.parse(JSON.parse(text));
  const health = await fetch(`${stack.producer}/healthz`).catch(() => undefined);
  if (!health?.ok) throw new Error(`the producer at ${stack.producer} does not answer: is \`npm run dev\` running?`);
  return stack;
}

async function example(stack: DevStack, type: string): Promise<Data> {
  const response = await fetch(`${stack.producer}/v1/schemas/${type}`);
  if (!response.ok) throw new Error(`GET /v1/schemas/${type}: HTTP ${response.status}`);
  const schema = (await response.json()) as { examples?: Data[] };
  const first = schema.examples?.[0];
  if (!first) throw new Error(`the catalogue has no example for ${type}`);
  return structuredClone(first);
}

async function publish(stack: DevStack, event: StoryEvent): Promise<z.infer<typeof receiptSchema>> {
  const id = crypto.randomUUID();
  const body = {
    specversion: "1.0",
    id,
    source: event.type.startsWith("gov.auth.") ? "/services/identity" : `/services/${event.type.split(".")[1]}`,
    type: event.type,
    correlationid: "edgebus-demo",
    ...(event.eventversion === undefined ? {} : { eventversion: event.eventversion }),
    data: event.data,
  };
  const response = await fetch(`${stack.producer}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/cloudevents+json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`${event.label}: HTTP ${response.status} ${text}`);
  const receipt = receiptSchema.parse(JSON.parse(text));
  const kafka = receipt.kafka
    ? `kafka ${receipt.kafka.topic}[${receipt.kafka.partition}]@${receipt.kafka.offset}`
    : "kafka off";
  console.log(
    `  202 ${receipt.status.padEnd(9)} ${event.label.padEnd(52)} → ${receipt.queues.length} queue(s), ${kafka}`,
  );
  return receipt;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.log(`  (gave up waiting for ${what} after ${SETTLE_TIMEOUT_MS / 1000}s)`);
  return undefined;
}

/** A phone subscribing to push (what the browser does) and the citizen app registering it. */
async function registerPhone(stack: DevStack, citizenId: number): Promise<string> {
  const made = await fetch(`${stack.providerUrl}/push/subscriptions`, {
    method: "POST",
    body: JSON.stringify(stack.vapidPublicKey ? { applicationServerKey: stack.vapidPublicKey } : {}),
  });
  if (made.status !== 201) throw new Error(`the local push service refused a subscription: HTTP ${made.status}`);
  const subscription = (await made.json()) as { endpoint: string };
  const registered = await fetch(`${stack.producer}/v1/citizens/${citizenId}/push-subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(subscription),
  });
  if (registered.status !== 201) {
    throw new Error(
      `POST /v1/citizens/${citizenId}/push-subscriptions: HTTP ${registered.status} ${await registered.text()}`,
    );
  }
  console.log(`  201 push subscription of citizen ${citizenId}'s phone registered (${subscription.endpoint})`);
  return subscription.endpoint;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { catalogue: { type: "string", default: "gov" } } });
  const stack = await loadStack();
  if (values.catalogue !== "gov") {
    await catalogueDemo(stack, values.catalogue);
    return;
  }
  const sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  try {
    const amina = 700000 + Math.floor(Math.random() * 99999);
    const sean = amina + 100000;
    const ghost = amina + 200000;
    const suffix = String(amina);
    const citizen = await example(stack, "gov.auth.citizen.created");
    const updated = await example(stack, "gov.auth.citizen.updated");
    const verified = await example(stack, "gov.auth.citizen.verified");
    const submitted = await example(stack, "gov.permits.application.submitted");
    const approved = await example(stack, "gov.permits.application.approved");
    const paid = await example(stack, "gov.revenue.payment.completed");
    const failed = await example(stack, "gov.revenue.payment.failed");
    const push = await example(stack, "gov.notification.push.queued");
    const pushId = crypto.randomUUID();
    const applicationId = `PA-2026-${suffix}`;

    const story: StoryEvent[] = [
      {
        label: `citizen ${amina} registered (v1)`,
        type: "gov.auth.citizen.created",
        eventversion: 1,
        data: { ...citizen, id: amina },
      },
      {
        label: `citizen ${sean} registered (v1)`,
        type: "gov.auth.citizen.created",
        eventversion: 1,
        data: {
          ...citizen,
          id: sean,
          name: "Seán Ó Briain",
          email: `sean.obriain.${suffix}@example.ie`,
          phone: "+353871234567",
        },
      },
      {
        label: `citizen ${amina} moves house (v3, arrives first)`,
        type: "gov.auth.citizen.updated",
        eventversion: 3,
        data: {
          ...updated,
          id: amina,
          email: "amina@haddad.ie",
          address: { line1: "7 Quay Street", city: "Galway", postal_code: "H91 K2P4", country: "IE" },
          changes: { address: { old: "12 Harbour Road, Dublin", new: "7 Quay Street, Galway" } },
        },
      },
      {
        label: `citizen ${amina} changes email (v2, arrives late)`,
        type: "gov.auth.citizen.updated",
        eventversion: 2,
        data: { ...updated, id: amina, email: "amina@haddad.ie" },
      },
      {
        label: `permit ${applicationId} submitted`,
        type: "gov.permits.application.submitted",
        data: { ...submitted, application_id: applicationId, citizen_id: amina },
      },
      {
        label: `permit ${applicationId} approved`,
        type: "gov.permits.application.approved",
        data: { ...approved, application_id: applicationId, citizen_id: amina, permit_number: `PRM-2026-${suffix}` },
      },
      {
        label: "permit fee paid",
        type: "gov.revenue.payment.completed",
        data: {
          ...paid,
          payment_id: `PAY-2026-${suffix}01`,
          citizen_id: amina,
          reference: { kind: "permit_application", id: applicationId },
        },
      },
      {
        label: `property tax payment of ${sean} declined`,
        type: "gov.revenue.payment.failed",
        data: {
          ...failed,
          payment_id: `PAY-2026-${suffix}02`,
          citizen_id: sean,
          payer: { email: `sean.obriain.${suffix}@example.ie` },
        },
      },
      {
        label: `push to ${sean}'s phone: payment declined`,
        type: "gov.notification.push.queued",
        data: {
          ...push,
          notification_id: pushId,
          citizen_id: sean,
          template_data: { amount: "84.50 EUR" },
          deep_link: `/payments/PAY-2026-${suffix}02`,
        },
      },
      // Poison: a valid event the API accepts, for a citizen no read model will ever know.
      {
        label: `POISON: verification of ${ghost}, who never registered`,
        type: "gov.auth.citizen.verified",
        eventversion: 2,
        data: { ...verified, id: ghost },
      },
    ];

    console.log("\nA citizen's phone subscribes to push notifications:");
    await registerPhone(stack, sean);
    console.log(`\nPublishing ${story.length} events to ${stack.producer}:`);
    const receipts = [];
    for (const event of story) receipts.push(await publish(stack, event));
    const poison = receipts.at(-1);

    console.log("\nWaiting for the consumers (local queues deliver in batches)…");
    const refs = await waitFor("citizen_refs", async () => {
      const rows = await sql<
        { schema: string; citizen_id: string; name: string; email: string; city: string; event_version: string }[]
      >`
        select 'permits' as schema, citizen_id, name, email, address->>'city' as city, event_version from permits.citizen_refs where citizen_id in (${amina}, ${sean})
        union all
        select 'revenue', citizen_id, name, email, address->>'city', event_version from revenue.citizen_refs where citizen_id in (${amina}, ${sean})
        order by 1, 2`;
      const settled = rows.filter((row) => String(row.citizen_id) === String(amina) && Number(row.event_version) === 3);
      return rows.length === 4 && settled.length === 2 ? rows : undefined;
    });
    console.log("\ncitizen_refs (read models; citizen", amina, "must be on version 3 despite the late v2):");
    for (const row of refs ?? []) {
      console.log(
        `  ${row.schema}.citizen_refs  ${row.citizen_id}  v${row.event_version}  ${row.name}  ${row.email}  ${row.city}`,
      );
    }

    const eventIds = receipts.map((receipt) => receipt.id);
    const notifications = await waitFor("notifications", async () => {
      const rows = await sql<{ event_type: string; channel: string; recipient: string; status: string }[]>`
        select event_type, channel, recipient, status from edgebus.notifications
        where event_id in ${sql(eventIds)} and status in ('sent', 'delivered', 'failed', 'skipped') order by id`;
      return rows.length > 0 ? rows : undefined;
    });
    console.log("\nnotifications (edgebus.notifications):");
    for (const row of notifications ?? []) {
      console.log(`  ${row.status.padEnd(8)} ${row.channel.padEnd(7)} ${row.recipient.padEnd(36)} ${row.event_type}`);
    }
    const inbox = (await (await fetch(`${stack.providerUrl}/inbox`)).json()) as {
      messages: { route: string; accepted: boolean }[];
    };
    const accepted = inbox.messages.filter((message) => message.accepted);
    const perRoute = new Map<string, number>();
    for (const message of accepted) perRoute.set(message.route, (perRoute.get(message.route) ?? 0) + 1);
    const byRoute = [...perRoute].map(([route, count]) => `${count} ${route}`).join(", ");
    console.log(`  local provider inbox: ${accepted.length} accepted (${byRoute}) — ${stack.providerUrl}/`);

    const pushed = await waitFor("the push", async () => {
      const messages = (await (await fetch(`${stack.providerUrl}/inbox?route=push`)).json()) as {
        messages: { accepted: boolean; payload?: { notification_id?: string }; push_headers?: { urgency: string } }[];
      };
      return messages.messages.find((message) => message.accepted && message.payload?.notification_id === pushId);
    });
    console.log("\npush notification, as the phone's push service decrypted it (RFC 8291, VAPID-signed):");
    if (pushed) {
      console.log(`  Urgency: ${pushed.push_headers?.urgency}`);
      for (const line of JSON.stringify(pushed.payload, null, 2).split("\n")) console.log(`  ${line}`);
    }

    // Both citizen-sync consumers retry it with backoff first (up to MAX_RETRIES), so this takes ~30 s.
    const deadLetter = await waitFor("the dead letters", async () => {
      const rows = await sql<{ queue: string; consumer: string; error_code: string; error_message: string }[]>`
        select queue, consumer, error_code, error_message from edgebus.dead_letters
        where event_id = ${poison?.id ?? ""} order by queue`;
      return rows.length >= 2 ? rows : undefined;
    });
    console.log("\ndead letters for the poison event, after its retries (edgebus.dead_letters):");
    for (const row of deadLetter ?? []) {
      console.log(`  ${row.queue} (${row.consumer}): ${row.error_code} — ${row.error_message}`);
    }
    console.log("  (the dead-letter Worker drains every <queue>-dlq into edgebus.dead_letters)");

    if (receipts.some((receipt) => receipt.kafka)) {
      console.log("\nKafka (from the receipts):");
      for (const receipt of receipts.filter((r) => r.kafka)) {
        console.log(
          `  ${receipt.kafka?.topic}[${receipt.kafka?.partition}] offset ${receipt.kafka?.offset}  ${receipt.type}`,
        );
      }
    } else {
      console.log("\nKafka is off (start the stack with KAFKA_BROKERS=… or `npm run dev -- --with-kafka`).");
    }
    const complete =
      refs !== undefined && notifications !== undefined && pushed !== undefined && deadLetter !== undefined;
    console.log(complete ? "\nDemo complete." : "\nDemo incomplete: see the gaps above and the `npm run dev` log.");
    process.exitCode = complete ? 0 : 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((error: unknown) => {
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
