/**
 * The provisioning plan built from the repository's real wrangler configs, and the configs'
 * `[env.staging]` / `[env.production]` sections checked against their development settings
 * (wrangler inherits neither vars nor bindings, so each environment repeats them and must not
 * drift). `applyPlan` runs against a recording fake of wrangler: no Cloudflare account is touched.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "#shared/names.ts";
import { findWorkerConfigs } from "./check-bundles.ts";
import {
  applyPlan,
  buildPlan,
  loadDeployments,
  namesIn,
  type PlanStep,
  type Runner,
  renderPlan,
  SECRETS,
  type WorkerDeployment,
  wranglerConfigReader,
} from "./provision.ts";

const ENVIRONMENTS = ["staging", "production"] as const;
/** Queues that carry no events, only wake-ups (the webhooks Worker's), so no routing name and no dead-letter queue. */
const WAKE_UP_QUEUES = ["webhooks"];
let byEnv: Record<string, WorkerDeployment[]> = {};
let development: WorkerDeployment[] = [];

beforeAll(async () => {
  development = await loadDeployments(undefined);
  byEnv = Object.fromEntries(await Promise.all(ENVIRONMENTS.map(async (env) => [env, await loadDeployments(env)])));
}, 60_000);

const kinds = (steps: readonly PlanStep[], kind: PlanStep["kind"]) => steps.filter((step) => step.kind === kind);

describe("npm run provision: the plan from the wrangler configs", () => {
  it("creates every queue the Workers use and its dead-letter queue, queues first", () => {
    const steps = buildPlan(byEnv.production ?? [], { env: "production" });
    const queues = kinds(steps, "queue").map((step) => (step as { queue: string }).queue);
    expect(queues).toEqual([
      ...[...QUEUE_NAMES, ...WAKE_UP_QUEUES].sort(),
      ...[...QUEUE_NAMES].map((q) => `${q}-dlq`).sort(),
    ]);
    expect(kinds(steps, "queue")[0]).toMatchObject({ command: ["npx", "wrangler", "queues", "create", queues[0]] });
    const withRetention = buildPlan(byEnv.production ?? [], { env: "production", dlqRetentionSeconds: 1_209_600 });
    const dlq = kinds(withRetention, "queue").find((step) => (step as { queue: string }).queue === "archive-dlq");
    expect((dlq as { command: string[] } | undefined)?.command.slice(-2)).toEqual([
      "--message-retention-period-secs",
      "1209600",
    ]);
  });

  it("creates one Hyperdrive configuration per id, names the configs to put it in, then migrates", () => {
    const steps = buildPlan(byEnv.production ?? [], { env: "production" });
    const hyperdrive = kinds(steps, "hyperdrive") as Extract<PlanStep, { kind: "hyperdrive" }>[];
    expect(Object.fromEntries(hyperdrive.map((step) => [step.id, [...step.configs].sort()]))).toEqual({
      "edgebus-db": [
        "workers/archive/wrangler.toml",
        "workers/dead-letter/wrangler.toml",
        "workers/kafka-mirror/wrangler.toml",
        "workers/webhooks/wrangler.toml",
        "wrangler.toml",
      ],
      "edgebus-permits-db": ["workers/citizen-sync/wrangler.permits.toml"],
      "edgebus-revenue-db": ["workers/citizen-sync/wrangler.revenue.toml"],
      "edgebus-notifier-db": ["workers/notifier/wrangler.toml"],
    });
    expect(hyperdrive.every((step) => step.placeholder)).toBe(true);
    expect(hyperdrive[0]?.command).toEqual([
      "npx",
      "wrangler",
      "hyperdrive",
      "create",
      "edgebus-db",
      "--connection-string",
      "$DATABASE_URL",
    ]);
    expect(kinds(steps, "migrate")).toHaveLength(1);
  });

  it("names the settings left empty that the Workers cannot run without", () => {
    const steps = buildPlan(byEnv.production ?? [], { env: "production" });
    expect(
      kinds(steps, "setting").map((step) => [(step as { config: string }).config, (step as { name: string }).name]),
    ).toEqual([
      ["wrangler.toml", "UPSTASH_REDIS_REST_URL"],
      ["workers/kafka-mirror/wrangler.toml", "BRIDGE_MIRROR_URL"],
    ]);
  });

  it("lists the secrets per Worker, the Kafka and webhook ones only with their URL", () => {
    const secrets = (deployments: readonly WorkerDeployment[]) =>
      kinds(buildPlan(deployments, { env: "production" }), "secret").map(
        (step) => `${(step as { worker: string }).worker} ${(step as { name: string }).name}`,
      );
    expect(secrets(byEnv.production ?? [])).toEqual([
      "edgebus-producer EDGEBUS_API_KEYS",
      "edgebus-producer UPSTASH_REDIS_REST_TOKEN",
      "edgebus-kafka-mirror BRIDGE_MIRROR_SECRET",
      "edgebus-notifier SENDGRID_API_KEY",
      "edgebus-notifier TWILIO_ACCOUNT_SID",
      "edgebus-notifier TWILIO_AUTH_TOKEN",
    ]);
    const withKafkaAndWebhook = (byEnv.production ?? []).map((d) => ({
      ...d,
      vars: { ...d.vars, UPSTASH_KAFKA_REST_URL: "https://bridge/kafka", WEBHOOK_URL: "https://case/hook" },
    }));
    expect(secrets(withKafkaAndWebhook)).toEqual(
      expect.arrayContaining([
        "edgebus-producer UPSTASH_KAFKA_REST_USERNAME",
        "edgebus-producer UPSTASH_KAFKA_REST_PASSWORD",
        "edgebus-notifier WEBHOOK_SECRET",
      ]),
    );
    const step = kinds(buildPlan(byEnv.production ?? [], { env: "production" }), "secret")[0];
    expect((step as { command: string[] } | undefined)?.command).toEqual([
      "npx",
      "wrangler",
      "secret",
      "put",
      "EDGEBUS_API_KEYS",
      "--env",
      "production",
      "-c",
      "wrangler.toml",
    ]);
  });

  it("deploys every Worker with --env, the dead-letter Worker first and the producer last", async () => {
    const steps = buildPlan(byEnv.production ?? [], { env: "production" });
    const deploys = kinds(steps, "deploy") as Extract<PlanStep, { kind: "deploy" }>[];
    expect(deploys.map((step) => step.config).sort()).toEqual((await findWorkerConfigs()).sort());
    expect(deploys[0]?.worker).toBe("edgebus-dead-letter");
    expect(deploys.at(-1)).toMatchObject({
      worker: "edgebus-producer",
      command: ["npx", "wrangler", "deploy", "--env", "production", "-c", "wrangler.toml"],
    });
    expect(steps.at(-1)?.kind).toBe("deploy");
  });

  it("prints the plan step by step", () => {
    const text = renderPlan(buildPlan(byEnv.production ?? [], { env: "production" }), { env: "production" });
    const headings = text.split("\n").filter((line) => /^\d+\. /.test(line));
    expect(headings.map((line) => line.split(" (")[0])).toEqual([
      "1. Queues",
      "2. Hyperdrive",
      "3. Database migrations",
      "4. Settings to fill in",
      "5. Secrets",
      "6. Deploy",
      "7. Check",
    ]);
    expect(text).toContain("   npx wrangler queues create permits-citizen-sync\n");
    expect(text).toContain('npx wrangler hyperdrive create edgebus-db --connection-string "$DATABASE_URL"');
    expect(text).toContain("wrangler.toml [env.production.vars] UPSTASH_REDIS_REST_URL = https://<bridge>/redis");
    expect(text).toContain("npx wrangler secret put EDGEBUS_API_KEYS --env production -c wrangler.toml");
    expect(text).toContain("npx wrangler deploy --env production -c workers/dead-letter/wrangler.toml");
  });
});

describe("the [env.staging] and [env.production] sections repeat the development settings", () => {
  it.each(ENVIRONMENTS)("%s: same Workers, vars, queues, consumer settings and Hyperdrive bindings", (env) => {
    const deployed = byEnv[env] ?? [];
    expect(deployed.map((d) => d.config)).toEqual(development.map((d) => d.config));
    for (const [index, deployment] of deployed.entries()) {
      const dev = development[index] as WorkerDeployment;
      expect(Object.keys(deployment.vars).sort(), `${deployment.config} [env.${env}.vars]`).toEqual(
        Object.keys(dev.vars).sort(),
      );
      expect(deployment.producerQueues, `${deployment.config} producers`).toEqual(dev.producerQueues);
      expect(deployment.consumerQueues, `${deployment.config} consumers`).toEqual(dev.consumerQueues);
      expect(
        deployment.hyperdrive.map((h) => h.binding),
        `${deployment.config} hyperdrive`,
      ).toEqual(dev.hyperdrive.map((h) => h.binding));
      if (deployment.vars.ENVIRONMENT !== undefined && deployment.baseName === "edgebus-producer") {
        expect(deployment.vars.ENVIRONMENT).toBe(env);
      }
    }
    const names = deployed.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    if (env === "production") expect(names).toEqual(development.map((d) => d.name));
  });

  it.each(ENVIRONMENTS)(
    "%s: each consumer's MAX_RETRIES equals its max_retries, and secrets are never vars",
    async (env) => {
      const readConfig = await wranglerConfigReader();
      for (const config of await findWorkerConfigs()) {
        const resolved = readConfig(config, env);
        const maxRetries = resolved.vars.MAX_RETRIES;
        if (maxRetries !== undefined) {
          for (const consumer of resolved.queues.consumers ?? []) {
            expect(String(consumer.max_retries), `${config} [env.${env}] ${consumer.queue}`).toBe(String(maxRetries));
          }
        }
        const secretNames = (SECRETS[resolved.topLevelName ?? ""] ?? []).map((s) => s.name);
        expect(
          Object.keys(resolved.vars).filter((name) => secretNames.includes(name)),
          config,
        ).toEqual([]);
      }
    },
  );
});

describe("a real run skips what exists and deploys only when nothing is left to do", () => {
  /** A fake wrangler: what exists is given; every command is recorded. */
  function fakeWrangler(existing: { queues: string[]; hyperdrive: string[]; secrets: Record<string, string[]> }) {
    const commands: string[] = [];
    const run: Runner = async (command) => {
      commands.push(command.join(" "));
      const args = command.slice(2);
      if (args[0] === "queues" && args[1] === "list") {
        const rows = existing.queues.map((name) => `│ 0f3c… │ ${name} │ 2026-12-01 │ 1 │ 1 │`);
        return {
          code: 0,
          stdout: ["┌──┐", "│ id │ name │ created_on │ producers │ consumers │", ...rows].join("\n"),
          stderr: "",
        };
      }
      if (args[0] === "hyperdrive" && args[1] === "list") {
        const rows = existing.hyperdrive.map((name) => `│ 5e2d… │ ${name} │ edgebus │ db.example.gov │`);
        return { code: 0, stdout: rows.join("\n"), stderr: "" };
      }
      if (args[0] === "secret" && args[1] === "list") {
        const config = args[args.indexOf("-c") + 1] as string;
        const names = existing.secrets[config];
        if (names === undefined) return { code: 1, stdout: "", stderr: "This Worker does not exist" };
        return { code: 0, stdout: JSON.stringify(names.map((name) => ({ name, type: "secret_text" }))), stderr: "" };
      }
      return { code: 0, stdout: "", stderr: "" };
    };
    return { run, commands };
  }

  const realIds = (deployments: readonly WorkerDeployment[]) =>
    deployments.map((d) => ({
      ...d,
      hyperdrive: d.hyperdrive.map((h) => ({ ...h, id: "0123456789abcdef0123456789abcdef" })),
      vars: {
        ...d.vars,
        UPSTASH_REDIS_REST_URL: "https://bridge/redis",
        BRIDGE_MIRROR_URL: "https://bridge/v1/mirror",
      },
    }));

  it("first run: creates the missing queues and Hyperdrive, and stops before deploying with what is left", async () => {
    const steps = buildPlan(byEnv.production ?? [], { env: "production" });
    const { run, commands } = fakeWrangler({ queues: ["archive", "archive-dlq"], hyperdrive: [], secrets: {} });
    const lines: string[] = [];
    const left = await applyPlan(steps, {
      env: "production",
      run,
      environment: { DATABASE_URL: "postgres://u:p@db/edgebus", EDGEBUS_API_KEYS: "[]" },
      log: (line) => lines.push(line),
    });
    const created = commands.filter((c) => c.includes("queues create")).map((c) => c.split(" ")[4]);
    expect(created).not.toContain("archive");
    expect(created).not.toContain("archive-dlq");
    expect(created).toHaveLength(QUEUE_NAMES.length * 2 - 2 + WAKE_UP_QUEUES.length);
    expect(commands.filter((c) => c.includes("hyperdrive create"))).toHaveLength(4);
    expect(commands).toContain("npm run migrate");
    expect(commands.some((c) => c.includes(" deploy "))).toBe(false);
    expect(left).toBeGreaterThan(0);
    const text = lines.join("\n");
    expect(text).toContain("exists  queue archive");
    expect(text).toContain("to do   set UPSTASH_REDIS_REST_URL in [env.production.vars] of wrangler.toml");
    expect(text).toContain("into [[env.production.hyperdrive]] id of");
    expect(text).toContain("ready   secret EDGEBUS_API_KEYS of edgebus-producer (from the environment");
    expect(text).toContain("to do   secret UPSTASH_REDIS_REST_TOKEN of edgebus-producer");
    expect(text).not.toContain("postgres://u:p@db");
  });

  it("a later run with everything in place: creates nothing, deploys every Worker, passing new secrets with --secrets-file", async () => {
    const deployments = realIds(byEnv.production ?? []);
    const steps = buildPlan(deployments, { env: "production" });
    const secretsByConfig: Record<string, string[]> = {};
    for (const step of kinds(steps, "secret") as Extract<PlanStep, { kind: "secret" }>[]) {
      if (step.name !== "EDGEBUS_API_KEYS")
        secretsByConfig[step.config] = [...(secretsByConfig[step.config] ?? []), step.name];
    }
    const { run, commands } = fakeWrangler({
      queues: [...QUEUE_NAMES, ...WAKE_UP_QUEUES, ...QUEUE_NAMES.map((q) => `${q}-dlq`)],
      hyperdrive: ["edgebus-db", "edgebus-permits-db", "edgebus-revenue-db", "edgebus-notifier-db"],
      secrets: secretsByConfig,
    });
    const left = await applyPlan(steps, {
      env: "production",
      run,
      environment: { EDGEBUS_API_KEYS: "[]" },
      log: () => undefined,
    });
    expect(left).toBe(0);
    expect(commands.filter((c) => c.includes(" create "))).toEqual([]);
    const deploys = commands.filter((c) => c.includes("wrangler deploy"));
    expect(deploys).toHaveLength(deployments.length);
    const producer = deploys.at(-1) ?? "";
    expect(producer).toMatch(
      /^npx wrangler deploy --env production -c wrangler\.toml --secrets-file \S+edgebus-producer\.json$/,
    );
    expect(deploys.slice(0, -1).every((c) => !c.includes("--secrets-file"))).toBe(true);
  });

  it("reads queue and secret names from wrangler's table and JSON output", () => {
    expect(namesIn('[{"name":"A","type":"secret_text"}]')).toEqual(new Set(["A"]));
    expect(namesIn("│ 9d1… │ archive-dlq │ 2026-12-01 │").has("archive-dlq")).toBe(true);
  });
});

describe("npm run provision -- --env production --dry-run", () => {
  it("prints the plan and exits 0", () => {
    const script = fileURLToPath(new URL("./provision.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", script, "--env", "production", "--dry-run"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("edgebus provision --env production (dry run: nothing is created)");
    expect(result.stdout).toContain("npx wrangler deploy --env production -c wrangler.toml");
    const usage = spawnSync(process.execPath, ["--import", "tsx", script, "--env", "prod"], { encoding: "utf8" });
    expect(usage.status).toBe(2);
  }, 90_000);
});
