/**
 * `npm run bridge -- topics apply [--dry-run] [--catalogues gov,commerce]` and `topics check`:
 * bring the catalogues' topics to their settings explicitly (the running bridge only creates
 * missing topics and reports drift), or print the drift. Uses the bridge's own configuration
 * (`--config`, environment) for the brokers and `kafka.topics` (`capReplication`,
 * `replicationFactor`, `catalogues`).
 *
 * Exit status: 0 done (or in sync), 1 something could not be applied or drift remains (check),
 * 2 a usage error.
 */
import { Admin } from "@platformatic/kafka";
import type { BridgeConfig } from "./config.ts";
import { bridgeCatalogues, topicSettingsOf } from "./kafka/catalogue-topics.ts";
import { clientOptions } from "./kafka/connection.ts";
import { applyTopicPlan, describeStep, planTopics } from "./kafka/topic-settings.ts";
import { kafkaConnectionOf } from "./server.ts";

export const TOPICS_HELP = `npm run bridge -- topics <apply|check> [--dry-run] [--catalogues LIST] [--config FILE]

  apply       create missing catalogue topics with their settings, add partitions to topics with
              too few, set retention.ms and compression.type where they differ; lists what it
              cannot change (fewer partitions, replication)
  check       list each topic's drift without changing anything (exit 1 when there is any)
  --dry-run   apply: print the plan only
  --catalogues LIST   namespaces (default kafka.topics.catalogues, else every shipped catalogue)
`;

export interface TopicsCommand {
  readonly action: string | undefined;
  readonly dryRun: boolean;
  readonly catalogues?: readonly string[];
}

export async function runTopicsCommand(
  config: BridgeConfig,
  command: TopicsCommand,
  print: (line: string) => void,
): Promise<number> {
  if (command.action !== "apply" && command.action !== "check") {
    print(TOPICS_HELP);
    return 2;
  }
  const wanted = topicSettingsOf(bridgeCatalogues(command.catalogues ?? config.kafka.topics.catalogues));
  const admin = new Admin(clientOptions(kafkaConnectionOf(config), "topics-cli"));
  try {
    const steps = await planTopics(admin, wanted, {
      capReplication: config.kafka.topics.capReplication,
      defaultReplication: config.kafka.topics.replicationFactor,
    });
    for (const step of steps) print(describeStep(step));
    const cannot = steps.filter((step) => step.kind === "cannot").length;
    const changes = steps.filter((step) => step.kind !== "cannot" && step.kind !== "in-sync");
    if (command.action === "check") return changes.length + cannot > 0 ? 1 : 0;
    if (command.dryRun) {
      print(`dry run: ${changes.length} change(s) planned, nothing applied`);
      return 0;
    }
    await applyTopicPlan(admin, changes);
    print(`applied ${changes.length} change(s)${cannot > 0 ? `; ${cannot} cannot be applied this way` : ""}`);
    return cannot > 0 ? 1 : 0;
  } finally {
    await admin.close();
  }
}
