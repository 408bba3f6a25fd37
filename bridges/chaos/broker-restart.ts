/**
 * Chaos check for the bridge's producer on a three-broker cluster (replication factor 3,
 * min.insync.replicas 2): produce keyed batches continuously while one broker is restarted
 * gracefully and another is killed with SIGKILL and started again. Passes when every batch the
 * producer acknowledged is in Kafka (Kafka holds at least the acknowledged count; failed batches
 * may be partly written, which callers retry: at-least-once) and failures stay rare.
 *
 * Usage: npx tsx bridges/chaos/broker-restart.ts
 * Starts its own cluster on 19092-19094 (state in a temp folder) next to the dev broker, deletes
 * it afterwards. Needs Java 17+ and mvn like scripts/kafka.sh. Exit code 1 on a lost record.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createKafkaStack } from "../kafka/kafka-stack.ts";

const script = fileURLToPath(new URL("../../scripts/kafka.sh", import.meta.url));
const state = mkdtempSync(join(tmpdir(), "edgebus-chaos-"));
const env = { ...process.env, EDGEBUS_KAFKA_PORT: "19092", EDGEBUS_KAFKA_STATE: state };
const kafka = (...args: string[]) => execFileSync("bash", [script, ...args], { env, stdio: "inherit" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  kafka("start", "--brokers", "3");
  const stack = createKafkaStack(
    { brokers: ["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"], clientId: "chaos", requestTimeoutMs: 10_000 },
    { autoCreate: true, partitionsFor: () => 6, defaultPartitions: 6, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 1 },
  );
  const topic = `chaos-${Date.now().toString(36)}`;
  let acked = 0;
  let failedBatches = 0;
  let stop = false;
  const producing = (async () => {
    for (let n = 0; !stop; n += 20) {
      try {
        await stack.producer.produce(
          Array.from({ length: 20 }, (_, i) => ({ topic, key: `k${(n + i) % 50}`, value: `v${n + i}` })),
        );
        acked += 20;
      } catch {
        failedBatches++;
        await sleep(200);
      }
    }
  })();

  await sleep(5_000);
  kafka("restart-broker", "2");
  await sleep(3_000);
  const pid = Number(readFileSync(join(state, "broker-3", "kafka.pid"), "utf8"));
  process.kill(pid, "SIGKILL");
  await sleep(10_000);
  kafka("restart-broker", "3");
  await sleep(5_000);
  stop = true;
  await producing;

  const listed = await stack.topics.admin.listOffsets({
    topics: [
      { name: topic, partitions: [0, 1, 2, 3, 4, 5].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) },
    ],
  });
  const inKafka = (listed[0]?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0);
  await stack.close();
  const batches = acked / 20 + failedBatches;
  console.log(JSON.stringify({ acked, failedBatches, batches, inKafka }));
  if (inKafka < acked) {
    console.error(`LOST RECORDS: Kafka holds ${inKafka}, the producer acknowledged ${acked}`);
    return 1;
  }
  if (failedBatches > batches * 0.05) {
    console.error(`too many failed batches: ${failedBatches} of ${batches}`);
    return 1;
  }
  console.log("chaos: no acknowledged record lost");
  return 0;
}

let code = 1;
try {
  code = await main();
} finally {
  kafka("reset");
  rmSync(state, { recursive: true, force: true });
}
process.exit(code);
