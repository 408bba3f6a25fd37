/**
 * The four faults of the chaos run, each injected once at a planned point of the load and timed:
 * the email provider failing for 30 s (15 s of 503, then 15 s of 429 with `Retry-After: 5`),
 * Postgres restarted (immediate stop — a crash — then start), one Kafka broker of three restarted,
 * the bridge SIGKILLed and started again on the same port, another broker SIGKILLed and started
 * again, and the mirror's RabbitMQ node and NATS server each stopped and started.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ChaosStack } from "./stack.ts";

export type FaultName =
  | "email-provider-down-30s"
  | "postgres-restart"
  | "kafka-broker-restart"
  | "bridge-sigkill"
  | "kafka-broker-sigkill"
  | "rabbitmq-restart"
  | "nats-restart";

export interface FaultTiming {
  name: FaultName;
  /** Seconds since the load started. */
  startedAt: number;
  endedAt: number;
  note: string;
  /** Why injecting or recovering failed (the run is then failed after its audit). */
  failed?: string;
}

export interface PlannedFault {
  name: FaultName;
  /** When to inject it, as a fraction of the planned load duration. */
  at: number;
}

export const FAULT_PLAN: readonly PlannedFault[] = [
  { name: "email-provider-down-30s", at: 0.1 },
  { name: "postgres-restart", at: 0.3 },
  { name: "kafka-broker-restart", at: 0.5 },
  { name: "bridge-sigkill", at: 0.7 },
  { name: "kafka-broker-sigkill", at: 0.85 },
  { name: "rabbitmq-restart", at: 0.4 },
  { name: "nats-restart", at: 0.6 },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function failEmail(providerUrl: string, rule: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${providerUrl}/_control/failures`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ route: "sendgrid", ...rule }),
  });
  if (response.status !== 201) throw new Error(`local provider refused the failure rule: ${response.status}`);
}

async function inject(stack: ChaosStack, name: FaultName): Promise<string> {
  switch (name) {
    case "email-provider-down-30s":
      // Rules apply in turn: the 503 window first, then the 429 one (both timed from now).
      await failEmail(stack.info.providerUrl, { status: 503, for_seconds: 15 });
      await failEmail(stack.info.providerUrl, { status: 429, for_seconds: 30, retry_after: 5 });
      await sleep(30_000);
      return "SendGrid route: 503 for 15 s, then 429 Retry-After 5 for 15 s";
    case "postgres-restart":
      await stack.postgres.restart();
      return "pg_ctl stop -m immediate, start";
    case "kafka-broker-restart":
      await stack.kafka.script("restart-broker", "2");
      return "broker 2 of 3 stopped (SIGTERM) and started";
    case "bridge-sigkill":
      await stack.bridge.kill();
      await sleep(2000);
      await stack.bridge.start();
      return "SIGKILL, 2 s down, started again on the same port";
    case "kafka-broker-sigkill": {
      const pid = Number(await readFile(path.join(stack.kafka.state, "broker-3", "kafka.pid"), "utf8"));
      process.kill(pid, "SIGKILL");
      await sleep(5000);
      await stack.kafka.script("restart-broker", "3");
      return "broker 3 of 3 SIGKILLed, 5 s down, started";
    }
    case "rabbitmq-restart":
      await stack.rabbitmq.restart(3000);
      return "the mirror's RabbitMQ node stopped (SIGTERM), 3 s down, started on the same data";
    case "nats-restart":
      await stack.nats.restart(3000);
      return "the mirror's NATS server stopped (SIGTERM), 3 s down, started on the same store";
  }
}

/**
 * Injects each planned fault when its time comes, independently of the others (a slow one — a
 * broker restart under load — does not push the next one past the end of the load); resolves with
 * the timings, in start order, when all are done.
 */
export async function runFaults(
  stack: ChaosStack,
  plan: readonly PlannedFault[],
  loadStartedAt: number,
  durationMs: number,
): Promise<FaultTiming[]> {
  const seconds = () => Number(((Date.now() - loadStartedAt) / 1000).toFixed(1));
  // Kafka faults take turns: two of three brokers down at once is beyond what replication
  // factor 3 with min.insync.replicas 2 promises (a second broker fault waits for the first).
  let kafkaTurn: Promise<unknown> = Promise.resolve();
  const timings = await Promise.all(
    plan.map(async (fault): Promise<FaultTiming> => {
      const due = loadStartedAt + fault.at * durationMs;
      if (Date.now() < due) await sleep(due - Date.now());
      if (fault.name.startsWith("kafka-")) {
        const previous = kafkaTurn;
        let done!: () => void;
        kafkaTurn = new Promise<void>((resolve) => {
          done = resolve;
        });
        await previous;
        try {
          return await injectTimed(fault);
        } finally {
          done();
        }
      }
      return injectTimed(fault);
    }),
  );
  return timings.sort((a, b) => a.startedAt - b.startedAt);

  async function injectTimed(fault: PlannedFault): Promise<FaultTiming> {
    const startedAt = seconds();
    console.log(`chaos: ${startedAt}s fault ${fault.name}`);
    // A fault that cannot be injected or recovered from is reported, and the run still audits.
    let note: string;
    let failed: string | undefined;
    try {
      note = await inject(stack, fault.name);
    } catch (error) {
      failed = error instanceof Error ? error.message : String(error);
      note = `FAILED: ${failed}`;
    }
    console.log(`chaos: ${seconds()}s fault ${fault.name} over (${note})`);
    return { name: fault.name, startedAt, endedAt: seconds(), note, ...(failed ? { failed } : {}) };
  }
}
