/**
 * `npm run provision -- --env production [--dry-run]`: what a first deploy of an environment
 * needs, step by step, derived from the Workers' wrangler configs (`[env.<name>]` of
 * `wrangler.toml` and every `workers/<name>/wrangler*.toml`, read with wrangler's own reader):
 *
 * 1. the queues every Worker produces to or consumes, and their dead-letter queues;
 * 2. the Hyperdrive configurations (one per distinct id in the configs) and where their ids go;
 * 3. the database migrations;
 * 4. the settings still empty in the configs that the Workers need (the producer's Redis URL, the
 *    kafka-mirror's bridge URL): the deploy stops until they are filled in;
 * 5. the secrets each Worker needs;
 * 6. `wrangler deploy --env <name>` for every Worker, consumers first, the producer last;
 * 7. how to check the result.
 *
 * `--dry-run` prints the plan and touches nothing. A real run lists what exists first
 * (`wrangler queues list`, `wrangler hyperdrive list`, `wrangler secret list`) and skips it, creates
 * the rest, passes the secrets it finds in its own environment (same names) to `wrangler deploy
 * --secrets-file` (a temporary 0600 file, deleted afterwards), and stops before deploying while a
 * setting, a Hyperdrive id or a required secret is missing, saying what to do.
 *
 * Options: `--env staging|production` (required), `--dry-run`, `--database-url URL` (else
 * `$DATABASE_URL`: Hyperdrive's connection string and the migrations), `--dlq-retention-seconds N`
 * (message retention of the dead-letter queues; up to 1209600 on paid plans).
 * Exit status: 0 done (or a dry run), 1 something is left to do or failed, 2 a usage error.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { findWorkerConfigs } from "./check-bundles.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** What provisioning needs from one Worker's config in one environment. */
export interface WorkerDeployment {
  /** Path relative to the repository (`workers/archive/wrangler.toml`). */
  readonly config: string;
  /** The Worker's name in this environment. */
  readonly name: string;
  /** The Worker's name at the top level (the key of `SECRETS`). */
  readonly baseName: string;
  readonly vars: Readonly<Record<string, string>>;
  readonly producerQueues: readonly string[];
  readonly consumerQueues: readonly { readonly queue: string; readonly deadLetterQueue?: string }[];
  readonly hyperdrive: readonly { readonly binding: string; readonly id: string }[];
}

/** A secret a Worker needs: always, or only when a var is set (`WEBHOOK_SECRET` with `WEBHOOK_URL`). */
export interface SecretSpec {
  readonly name: string;
  readonly whenVar?: string;
  readonly note?: string;
}

/** Secrets by Worker (top-level name). Names as the Workers read them (see docs/configuration.md). */
export const SECRETS: Readonly<Record<string, readonly SecretSpec[]>> = {
  "edgebus-producer": [
    { name: "EDGEBUS_API_KEYS", note: "JSON array of key entries; mint each with npx tsx scripts/api-key.ts <id>" },
    { name: "UPSTASH_REDIS_REST_TOKEN", note: "the bridge's BRIDGE_REDIS_REST_TOKEN" },
    {
      name: "UPSTASH_KAFKA_REST_USERNAME",
      whenVar: "UPSTASH_KAFKA_REST_URL",
      note: "the bridge's BRIDGE_KAFKA_REST_USERNAME",
    },
    {
      name: "UPSTASH_KAFKA_REST_PASSWORD",
      whenVar: "UPSTASH_KAFKA_REST_URL",
      note: "the bridge's BRIDGE_KAFKA_REST_PASSWORD",
    },
  ],
  "edgebus-notifier": [
    { name: "SENDGRID_API_KEY" },
    { name: "TWILIO_ACCOUNT_SID" },
    { name: "TWILIO_AUTH_TOKEN" },
    { name: "WEBHOOK_SECRET", whenVar: "WEBHOOK_URL", note: "whsec_<base64>" },
    {
      name: "VAPID_PRIVATE_KEY",
      whenVar: "VAPID_PUBLIC_KEY",
      note: "base64url P-256 private key paired with VAPID_PUBLIC_KEY",
    },
  ],
  "edgebus-kafka-mirror": [{ name: "BRIDGE_MIRROR_SECRET", note: "the bridge's BRIDGE_MIRROR_SECRET" }],
};

/** Vars a Worker cannot run without that the committed configs leave empty for the operator. */
export const REQUIRED_VARS: Readonly<Record<string, readonly { name: string; hint: string }[]>> = {
  "edgebus-producer": [
    {
      name: "UPSTASH_REDIS_REST_URL",
      hint: "https://<bridge>/redis — without it the producer refuses to publish (503 dedup_not_shared)",
    },
  ],
  "edgebus-kafka-mirror": [
    { name: "BRIDGE_MIRROR_URL", hint: "https://<bridge>/v1/mirror — without it the Worker holds every message" },
  ],
};

/** Hyperdrive ids are 32 hex digits; anything else in a config is the committed placeholder. */
const HYPERDRIVE_ID = /^[0-9a-f]{32}$/;

/** Deploy order: the dead-letter Worker first (it drains every DLQ), the producer last. */
function deployRank(deployment: WorkerDeployment): number {
  if (deployment.baseName === "edgebus-dead-letter") return 0;
  if (deployment.baseName === "edgebus-producer") return 2;
  return 1;
}

export type PlanStep =
  | { readonly kind: "queue"; readonly queue: string; readonly command: readonly string[] }
  | {
      readonly kind: "hyperdrive";
      readonly id: string;
      readonly configs: readonly string[];
      /** The configs hold a placeholder, not a real id yet. */
      readonly placeholder: boolean;
      readonly command: readonly string[];
    }
  | { readonly kind: "migrate"; readonly command: readonly string[] }
  | { readonly kind: "setting"; readonly config: string; readonly name: string; readonly hint: string }
  | {
      readonly kind: "secret";
      readonly config: string;
      readonly worker: string;
      readonly name: string;
      readonly note?: string;
      readonly command: readonly string[];
    }
  | { readonly kind: "deploy"; readonly config: string; readonly worker: string; readonly command: readonly string[] };

export interface PlanOptions {
  readonly env: string;
  readonly dlqRetentionSeconds?: number;
}

const wrangler = (...args: string[]) => ["npx", "wrangler", ...args];

/** The steps of a first deploy of `deployments` (one per Worker config), in order. */
export function buildPlan(deployments: readonly WorkerDeployment[], options: PlanOptions): PlanStep[] {
  const steps: PlanStep[] = [];
  const queues = new Set<string>();
  const deadLetterQueues = new Set<string>();
  for (const deployment of deployments) {
    for (const queue of deployment.producerQueues) queues.add(queue);
    for (const { queue, deadLetterQueue } of deployment.consumerQueues) {
      queues.add(queue);
      if (deadLetterQueue !== undefined) deadLetterQueues.add(deadLetterQueue);
    }
  }
  const isDeadLetterQueue = (queue: string) => deadLetterQueues.has(queue) || queue.endsWith("-dlq");
  const ordered = [...new Set([...queues, ...deadLetterQueues])].sort(
    (a, b) => Number(isDeadLetterQueue(a)) - Number(isDeadLetterQueue(b)) || a.localeCompare(b),
  );
  for (const queue of ordered) {
    const retention =
      isDeadLetterQueue(queue) && options.dlqRetentionSeconds !== undefined
        ? ["--message-retention-period-secs", String(options.dlqRetentionSeconds)]
        : [];
    steps.push({ kind: "queue", queue, command: wrangler("queues", "create", queue, ...retention) });
  }

  const hyperdrive = new Map<string, string[]>();
  for (const deployment of deployments) {
    for (const { id } of deployment.hyperdrive) hyperdrive.set(id, [...(hyperdrive.get(id) ?? []), deployment.config]);
  }
  for (const [id, configs] of hyperdrive) {
    const placeholder = !HYPERDRIVE_ID.test(id);
    steps.push({
      kind: "hyperdrive",
      id,
      configs,
      placeholder,
      command: wrangler("hyperdrive", "create", id, "--connection-string", "$DATABASE_URL"),
    });
  }
  if (hyperdrive.size > 0) steps.push({ kind: "migrate", command: ["npm", "run", "migrate"] });

  for (const deployment of deployments) {
    for (const { name, hint } of REQUIRED_VARS[deployment.baseName] ?? []) {
      if ((deployment.vars[name] ?? "") === "") steps.push({ kind: "setting", config: deployment.config, name, hint });
    }
  }

  for (const deployment of deployments) {
    for (const spec of SECRETS[deployment.baseName] ?? []) {
      if (spec.whenVar !== undefined && (deployment.vars[spec.whenVar] ?? "") === "") continue;
      steps.push({
        kind: "secret",
        config: deployment.config,
        worker: deployment.name,
        name: spec.name,
        ...(spec.note === undefined ? {} : { note: spec.note }),
        command: wrangler("secret", "put", spec.name, "--env", options.env, "-c", deployment.config),
      });
    }
  }

  for (const deployment of [...deployments].sort((a, b) => deployRank(a) - deployRank(b))) {
    steps.push({
      kind: "deploy",
      config: deployment.config,
      worker: deployment.name,
      command: wrangler("deploy", "--env", options.env, "-c", deployment.config),
    });
  }
  return steps;
}

/** The parts of wrangler's resolved config that provisioning reads. */
export interface ResolvedWranglerConfig {
  readonly name?: string;
  readonly topLevelName?: string;
  readonly vars: Record<string, unknown>;
  readonly queues: {
    readonly producers?: readonly { readonly binding: string; readonly queue: string }[];
    readonly consumers?: readonly {
      readonly queue: string;
      readonly dead_letter_queue?: string;
      readonly max_retries?: number;
    }[];
  };
  readonly hyperdrive: readonly { readonly binding: string; readonly id: string }[];
}

/** Wrangler's own config reader (environments resolved as `wrangler deploy --env` does). */
export async function wranglerConfigReader(): Promise<
  (config: string, env: string | undefined) => ResolvedWranglerConfig
> {
  const { unstable_readConfig } = (await import("wrangler")) as {
    unstable_readConfig: (
      args: { config: string; env?: string },
      options: { hideWarnings: boolean },
    ) => ResolvedWranglerConfig;
  };
  return (config, env) =>
    unstable_readConfig({ config, ...(env === undefined ? {} : { env }) }, { hideWarnings: true });
}

/** Every Worker config of the repository, as wrangler resolves it for `env` (undefined: the top level, development). */
export async function loadDeployments(env: string | undefined, repoRoot = root): Promise<WorkerDeployment[]> {
  const readConfig = await wranglerConfigReader();
  const deployments: WorkerDeployment[] = [];
  for (const config of await findWorkerConfigs(repoRoot)) {
    const configPath = path.join(repoRoot, config);
    const top = readConfig(configPath, undefined);
    const resolved = readConfig(configPath, env);
    if (resolved.name === undefined || top.name === undefined) throw new Error(`${config} has no Worker name`);
    deployments.push({
      config,
      name: resolved.name,
      baseName: top.name,
      vars: Object.fromEntries(Object.entries(resolved.vars ?? {}).map(([k, v]) => [k, String(v)])),
      producerQueues: (resolved.queues.producers ?? []).map((producer) => producer.queue),
      consumerQueues: (resolved.queues.consumers ?? []).map((consumer) => ({
        queue: consumer.queue,
        ...(consumer.dead_letter_queue ? { deadLetterQueue: consumer.dead_letter_queue } : {}),
      })),
      hyperdrive: resolved.hyperdrive.map(({ binding, id }) => ({ binding, id })),
    });
  }
  return deployments;
}

/** A command as the operator would type it; a `$VAR` stays an (expanded, quoted) variable. */
const shell = (command: readonly string[]) =>
  command
    .map((part) => {
      if (/^\$[A-Z_]+$/.test(part)) return `"${part}"`;
      return /^[\w./:@=-]+$/.test(part) ? part : `'${part.replaceAll("'", "'\\''")}'`;
    })
    .join(" ");

/** The plan as text, section by section (what `--dry-run` prints). */
export function renderPlan(steps: readonly PlanStep[], options: PlanOptions): string {
  const out: string[] = [];
  const section = (title: string) => out.push("", title);
  const of = <K extends PlanStep["kind"]>(kind: K) =>
    steps.filter((s): s is Extract<PlanStep, { kind: K }> => s.kind === kind);
  let n = 0;
  section(`${++n}. Queues (every queue and dead-letter queue in the configs' [env.${options.env}] bindings)`);
  for (const step of of("queue")) out.push(`   ${shell(step.command)}`);
  out.push("   (a real run lists them first with `npx wrangler queues list` and skips those that exist)");
  const hyperdrive = of("hyperdrive");
  if (hyperdrive.length > 0) {
    section(`${++n}. Hyperdrive (one configuration per id in the configs; all reach the same database)`);
    for (const step of hyperdrive) {
      out.push(`   ${shell(step.command)}`);
      out.push(
        step.placeholder
          ? `      then put the id it prints into [[env.${options.env}.hyperdrive]] id of ${step.configs.join(", ")} (now the placeholder "${step.id}")`
          : `      configured in ${step.configs.join(", ")}`,
      );
    }
    section(`${++n}. Database migrations (before deploying code that needs them)`);
    for (const step of of("migrate")) out.push(`   DATABASE_URL=postgres://… ${shell(step.command)}`);
  }
  const settings = of("setting");
  section(`${++n}. Settings to fill in (the deploy waits for these)`);
  if (settings.length === 0) out.push("   none");
  for (const step of settings) out.push(`   ${step.config} [env.${options.env}.vars] ${step.name} = ${step.hint}`);
  section(
    `${++n}. Secrets (a real run skips those \`npx wrangler secret list\` shows, and passes those set in its own environment to the deploy)`,
  );
  for (const step of of("secret")) {
    out.push(`   ${shell(step.command)}${step.note === undefined ? "" : `   # ${step.note}`}`);
  }
  section(`${++n}. Deploy (consumers first, the producer last)`);
  for (const step of of("deploy")) out.push(`   ${shell(step.command)}`);
  section(`${++n}. Check`);
  out.push(
    `   curl -sS https://<producer>/healthz   # 200 {"status":"ok","environment":"${options.env}","dedup":"redis","rate_limit":"redis",…}; a 503's code says what is missing (send an admin key for the settings)`,
  );
  out.push("   npm run edgebus -- dlq list          # with EDGEBUS_API_URL and an admin key: no dead letters");
  return out.join("\n").trimStart();
}

/** Runs a command; resolves with its exit code and output (never rejects for a non-zero exit). */
export type Runner = (
  command: readonly string[],
  options?: { readonly env?: Record<string, string> },
) => Promise<{ code: number; stdout: string; stderr: string }>;

export const spawnRunner: Runner = (command, options = {}) =>
  new Promise((resolve) => {
    const [program, ...args] = command;
    const child = spawn(program as string, args, {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["inherit", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", (error) => resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` }));
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

/** Names in the first column of wrangler's table output, or `name` fields of its JSON output. */
export function namesIn(output: string): Set<string> {
  const names = new Set<string>();
  try {
    const json = JSON.parse(output) as unknown;
    if (Array.isArray(json)) {
      for (const item of json)
        if (typeof (item as { name?: unknown }).name === "string") names.add((item as { name: string }).name);
      return names;
    }
  } catch {
    // a table
  }
  for (const line of output.split("\n")) {
    const cells = line.split(/[│|]/).map((cell) => cell.trim());
    for (const cell of cells) if (/^[A-Za-z0-9][\w-]*$/.test(cell)) names.add(cell);
  }
  return names;
}

export interface ApplyOptions extends PlanOptions {
  readonly run: Runner;
  /** The process environment: secret values, DATABASE_URL. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly log: (line: string) => void;
}

/**
 * Carries out `steps`, skipping what exists. Resolves with the number of things left to do
 * (missing settings, placeholder Hyperdrive ids, secrets without a value, failed commands); the
 * Workers are deployed only when that is 0 before the deploy steps.
 */
export async function applyPlan(steps: readonly PlanStep[], options: ApplyOptions): Promise<number> {
  const { run, log } = options;
  let todo = 0;
  const fail = (what: string, result: { stdout: string; stderr: string }) => {
    todo += 1;
    log(`FAILED ${what}\n${`${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-10).join("\n")}`);
  };

  const queueSteps = steps.filter((s): s is Extract<PlanStep, { kind: "queue" }> => s.kind === "queue");
  if (queueSteps.length > 0) {
    const listed = await run(wrangler("queues", "list"));
    if (listed.code !== 0) fail("npx wrangler queues list", listed);
    else {
      const existing = namesIn(listed.stdout);
      for (const step of queueSteps) {
        if (existing.has(step.queue)) {
          log(`exists  queue ${step.queue}`);
          continue;
        }
        const created = await run(step.command);
        if (created.code === 0) log(`created queue ${step.queue}`);
        else fail(shell(step.command), created);
      }
    }
  }

  const hyperdriveSteps = steps.filter((s): s is Extract<PlanStep, { kind: "hyperdrive" }> => s.kind === "hyperdrive");
  const databaseUrl = options.environment.DATABASE_URL;
  if (hyperdriveSteps.length > 0) {
    const listed = await run(wrangler("hyperdrive", "list"));
    const existing = listed.code === 0 ? namesIn(listed.stdout) : new Set<string>();
    if (listed.code !== 0) fail("npx wrangler hyperdrive list", listed);
    for (const step of hyperdriveSteps) {
      if (!step.placeholder) {
        log(`exists  hyperdrive ${step.id} (a real id in ${step.configs.join(", ")})`);
        continue;
      }
      if (!existing.has(step.id)) {
        if (databaseUrl === undefined) {
          todo += 1;
          log(`to do   hyperdrive ${step.id}: give --database-url (or DATABASE_URL) to create it`);
          continue;
        }
        const command = step.command.map((part) => (part === "$DATABASE_URL" ? databaseUrl : part));
        const created = await run(command);
        if (created.code !== 0) {
          fail(`npx wrangler hyperdrive create ${step.id}`, created);
          continue;
        }
        log(`created hyperdrive ${step.id}\n${created.stdout.trim()}`);
      } else log(`exists  hyperdrive ${step.id}`);
      todo += 1;
      log(
        `to do   put the id of Hyperdrive ${step.id} (npx wrangler hyperdrive list) into [[env.${options.env}.hyperdrive]] id of ${step.configs.join(", ")}`,
      );
    }
    if (databaseUrl === undefined) log("to do   migrations: DATABASE_URL=postgres://… npm run migrate");
    else {
      const migrated = await run(["npm", "run", "migrate"], { env: { DATABASE_URL: databaseUrl } });
      if (migrated.code === 0) log("done    migrations");
      else fail("npm run migrate", migrated);
    }
  }

  for (const step of steps) {
    if (step.kind !== "setting") continue;
    todo += 1;
    log(`to do   set ${step.name} in [env.${options.env}.vars] of ${step.config}: ${step.hint}`);
  }

  // Secrets: those the Worker has are skipped; those in this process's environment go to the deploy.
  const secretsFor = new Map<string, Record<string, string>>();
  const secretSteps = steps.filter((s): s is Extract<PlanStep, { kind: "secret" }> => s.kind === "secret");
  const listedSecrets = new Map<string, Set<string>>();
  for (const step of secretSteps) {
    let existing = listedSecrets.get(step.config);
    if (existing === undefined) {
      const listed = await run(wrangler("secret", "list", "--env", options.env, "-c", step.config, "--format", "json"));
      // A Worker that was never deployed has no secrets to list.
      existing = listed.code === 0 ? namesIn(listed.stdout) : new Set<string>();
      listedSecrets.set(step.config, existing);
    }
    if (existing.has(step.name)) {
      log(`exists  secret ${step.name} of ${step.worker}`);
      continue;
    }
    const value = options.environment[step.name];
    if (value !== undefined && value !== "") {
      secretsFor.set(step.config, { ...(secretsFor.get(step.config) ?? {}), [step.name]: value });
      log(`ready   secret ${step.name} of ${step.worker} (from the environment; uploaded with the deploy)`);
      continue;
    }
    todo += 1;
    log(
      `to do   secret ${step.name} of ${step.worker}: ${shell(step.command)} (or set ${step.name} here and run again)`,
    );
  }

  if (todo > 0) {
    log(`\n${todo} thing(s) to do before the Workers can be deployed; run again afterwards (what exists is skipped).`);
    return todo;
  }
  const secretsDir = await mkdtemp(path.join(tmpdir(), "edgebus-provision-"));
  try {
    for (const step of steps) {
      if (step.kind !== "deploy") continue;
      const secrets = secretsFor.get(step.config);
      let command = [...step.command];
      if (secrets !== undefined) {
        const file = path.join(secretsDir, `${step.worker}.json`);
        await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
        command = [...command, "--secrets-file", file];
      }
      const deployed = await run(command);
      if (deployed.code === 0) log(`deployed ${step.worker}`);
      else {
        fail(shell(step.command), deployed);
        break;
      }
    }
  } finally {
    await rm(secretsDir, { recursive: true, force: true });
  }
  return todo;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "database-url": { type: "string" },
      "dlq-retention-seconds": { type: "string" },
    },
  });
  const env = values.env;
  if (env !== "staging" && env !== "production") {
    console.error(
      "usage: npm run provision -- --env staging|production [--dry-run] [--database-url URL] [--dlq-retention-seconds N]",
    );
    return 2;
  }
  const retention = values["dlq-retention-seconds"];
  if (retention !== undefined && !/^[1-9]\d*$/.test(retention)) {
    console.error(`--dlq-retention-seconds must be a positive whole number (got ${retention})`);
    return 2;
  }
  const options: PlanOptions = { env, ...(retention === undefined ? {} : { dlqRetentionSeconds: Number(retention) }) };
  const steps = buildPlan(await loadDeployments(env), options);
  if (values["dry-run"]) {
    console.log(`edgebus provision --env ${env} (dry run: nothing is created)\n`);
    console.log(renderPlan(steps, options));
    return 0;
  }
  const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
  const left = await applyPlan(steps, {
    ...options,
    run: spawnRunner,
    environment: { ...process.env, ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }) },
    log: (line) => console.log(line),
  });
  return left === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
