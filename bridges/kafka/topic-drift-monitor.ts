/**
 * Watches the catalogues' topics for drift from their settings (`topic-settings.ts`): checked at
 * start and again when `/healthz` or `/metrics` asks, at most once per `cacheMs`. New drift is
 * logged once (and its end once); `/healthz` shows it as detail without failing the check (a
 * topic with a shorter retention still takes traffic), `/metrics` as one gauge per setting.
 * Nothing here changes a topic: `npm run bridge -- topics apply` does, explicitly.
 */
import type { Admin } from "@platformatic/kafka";
import { createLogger, errorLogFields } from "#shared/log.ts";
import type { MetricFamily } from "../metrics.ts";
import {
  brokerCount,
  describeDrift,
  driftOf,
  inspectTopics,
  replicationFor,
  type SettingDrift,
  type TopicSettings,
} from "./topic-settings.ts";

const log = createLogger({ component: "bridge" });

export interface DriftMonitorOptions {
  readonly capReplication: boolean;
  readonly defaultReplication: number;
  /** How long one check's answer is reused (default 60 s). */
  readonly cacheMs?: number;
}

export interface DriftReport {
  /** `unknown` until a check succeeded (Kafka unreachable). */
  readonly status: "in-sync" | "drift" | "unknown";
  readonly drift: readonly SettingDrift[];
  /** Catalogue topics that exist and were compared. */
  readonly checked: number;
  readonly checkedAt?: string;
  readonly error?: string;
}

export class TopicDriftMonitor {
  readonly #admin: Admin;
  readonly #wanted: ReadonlyMap<string, TopicSettings>;
  readonly #options: DriftMonitorOptions;
  readonly #logged = new Set<string>();
  #last: { at: number; report: DriftReport } | undefined;
  #running: Promise<DriftReport> | undefined;

  constructor(admin: Admin, wanted: ReadonlyMap<string, TopicSettings>, options: DriftMonitorOptions) {
    this.#admin = admin;
    this.#wanted = wanted;
    this.#options = options;
  }

  /** The latest report, checking again when it is older than `cacheMs`. Never throws. */
  report(): Promise<DriftReport> {
    const last = this.#last;
    if (last && Date.now() - last.at < (this.#options.cacheMs ?? 60_000)) return Promise.resolve(last.report);
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * `report()`, but answered within `timeoutMs` (the previous report, or `unknown`, while a check
   * against a slow or unreachable cluster is still running): `/healthz` and `/metrics` never wait
   * for Kafka's own timeouts.
   */
  async latest(timeoutMs: number): Promise<DriftReport> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DriftReport>((resolve) => {
      timer = setTimeout(
        () => resolve(this.#last?.report ?? { status: "unknown", drift: [], checked: 0, error: "still checking" }),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.report(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async families(timeoutMs = 3000): Promise<MetricFamily[]> {
    const report = await this.latest(timeoutMs);
    return [
      {
        name: "edgebus_bridge_topic_settings_drift",
        help: "1 for each catalogue topic setting the cluster differs from (partitions, replication, retention.ms, compression.type)",
        type: "gauge",
        samples: report.drift.map((d) => ({ labels: { topic: d.topic, setting: d.setting }, value: 1 })),
      },
      {
        name: "edgebus_bridge_topic_settings_checked",
        help: "Catalogue topics whose settings were compared with the cluster in the last check (0 while Kafka is unreachable)",
        type: "gauge",
        samples: [{ labels: {}, value: report.checked }],
      },
    ];
  }

  async #check(): Promise<DriftReport> {
    let report: DriftReport;
    try {
      const brokers = await brokerCount(this.#admin);
      const observed = await inspectTopics(this.#admin, [...this.#wanted.keys()]);
      const drift: SettingDrift[] = [];
      for (const [topic, have] of observed) {
        const settings = this.#wanted.get(topic) as TopicSettings;
        const replication = replicationFor(
          settings,
          brokers,
          this.#options.capReplication,
          this.#options.defaultReplication,
        );
        drift.push(...driftOf(topic, settings, have, replication));
      }
      report = {
        status: drift.length > 0 ? "drift" : "in-sync",
        drift,
        checked: observed.size,
        checkedAt: new Date().toISOString(),
      };
      this.#logChanges(drift);
    } catch (error) {
      log.log("warn", "topic settings could not be checked", errorLogFields(error));
      report = { status: "unknown", drift: [], checked: 0, error: (error as Error).message };
    }
    this.#last = { at: Date.now(), report };
    return report;
  }

  #logChanges(drift: readonly SettingDrift[]): void {
    const now = new Set(drift.map((d) => `${d.topic}\u0000${d.setting}`));
    for (const d of drift) {
      const key = `${d.topic}\u0000${d.setting}`;
      if (this.#logged.has(key)) continue;
      this.#logged.add(key);
      log.log("warn", `topic drift: ${describeDrift(d)} (not changed; npm run bridge -- topics apply)`, {
        destination: d.topic,
        note: `${d.setting}: want ${d.want}, have ${d.have}`,
      });
    }
    for (const key of [...this.#logged]) {
      if (now.has(key)) continue;
      this.#logged.delete(key);
      const [topic, setting] = key.split("\u0000");
      log.log("info", `topic drift resolved: ${topic} ${setting} matches the catalogue again`, { destination: topic });
    }
  }
}
