/**
 * `npm run edgebus -- <command>`: the operator's CLI for the producer's admin API (dead letters,
 * replay). Talks HTTP only; configuration from `EDGEBUS_API_URL` / `EDGEBUS_API_KEY` or the
 * `--url` / `--key` flags. Run with `--help` for the commands.
 *
 * Exit status: 0 done, 1 the API refused or a job did not complete, 2 a usage error.
 */
import { parseArgs } from "node:util";
import { AdminApiError, AdminClient, type Json } from "./cli/admin-client.ts";
import { followJob, formatDuration, progressLine } from "./cli/progress.ts";
import { SUBSCRIPTIONS_HELP, SubscriptionUsageError, subscriptionsCommand } from "./cli/subscriptions.ts";
import { renderPairs, renderTable } from "./cli/table.ts";

const HELP = `edgebus — operate dead letters, replays and webhook subscriptions through the producer's API

Usage: npm run edgebus -- <command> [options]

Dead letters
  dlq list [filters] [--status pending|replayed|discarded|any] [--limit N] [--all]
                                     list, newest failure first (--all: every page)
  dlq show <id>                      one entry with its error and original event
  dlq replay <id>                    send one entry back to its queue now
  dlq replay [filters] [--rate N] [--dry-run] [--no-wait]
                                     bulk redrive of the pending entries matching the filters
                                     (no filter: add --all), rate-limited, with a progress bar
  dlq discard <id> --reason TEXT     discard an entry, recording why

Archive replay
  replay --type PATTERN --from TIME [--to TIME] --queue QUEUE [--rate N] [--rebuild]
         [--dry-run] [--no-wait]     replay archived events into a queue (rate-limited job)
  replay status <id> [--wait]        a job's progress (--wait: follow it to the end)
  replay cancel <id>                 stop a running job

${SUBSCRIPTIONS_HELP}
Filters (dlq): --queue Q --consumer C --type PATTERN --error-type T --error-code C
               --from TIME --to TIME          (TIME: ISO 8601, e.g. 2026-12-01T00:00:00Z)
Queues: permits-citizen-sync revenue-citizen-sync notifications kafka-mirror archive
Patterns: * matches any run of characters (gov.auth.citizen.*)

Options
  --url URL        producer URL (default $EDGEBUS_API_URL, else http://127.0.0.1:8787)
  --key KEY        API key with the admin scope (default $EDGEBUS_API_KEY)
  --json           print the API's JSON instead of tables
  -h, --help       this text

Examples
  npm run edgebus -- dlq list --queue notifications
  npm run edgebus -- dlq replay --queue notifications --rate 50 --dry-run
  npm run edgebus -- replay --type 'gov.auth.citizen.*' --from 2026-01-01T00:00:00Z \\
      --queue permits-citizen-sync --rebuild
`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

const OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  queue: { type: "string" },
  consumer: { type: "string" },
  type: { type: "string" },
  "error-type": { type: "string" },
  "error-code": { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean", default: false },
  rate: { type: "string" },
  "dry-run": { type: "boolean", default: false },
  "no-wait": { type: "boolean", default: false },
  wait: { type: "boolean", default: false },
  rebuild: { type: "boolean", default: false },
  reason: { type: "string" },
  filter: { type: "string" },
  description: { type: "string" },
  fields: { type: "string" },
  target: { type: "string" },
  seq: { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

export interface CliIo {
  readonly env: Record<string, string | undefined>;
  readonly stdout: { isTTY: boolean; write(text: string): void };
  readonly stderr: { write(text: string): void };
}

const shortTime = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-");

function deadLetterFilters(values: Values): Record<string, string> {
  const filters: Record<string, string> = {};
  const names: Array<[keyof Values, string]> = [
    ["queue", "queue"],
    ["consumer", "consumer"],
    ["type", "type"],
    ["error-type", "error_type"],
    ["error-code", "error_code"],
    ["from", "from"],
    ["to", "to"],
  ];
  for (const [flag, field] of names) {
    const value = values[flag];
    if (typeof value === "string") filters[field] = value;
  }
  return filters;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number (got '${text}')`);
  return n;
}

function deadLetterTable(entries: Json[]): string {
  return renderTable(entries, [
    { header: "ID", value: (e) => e.id, align: "right" },
    { header: "QUEUE", value: (e) => e.queue },
    { header: "CONSUMER", value: (e) => e.consumer, max: 24 },
    { header: "TYPE", value: (e) => e.event?.type, max: 36 },
    { header: "ERROR", value: (e) => `${e.error?.code ?? e.error?.reason}: ${e.error?.message ?? ""}`, max: 50 },
    { header: "ATTEMPTS", value: (e) => e.attempts, align: "right" },
    { header: "LAST FAILED", value: (e) => shortTime(e.last_failed_at) },
    { header: "STATUS", value: (e) => e.status },
  ]);
}

function jobSummary(job: Json): string {
  return renderPairs([
    ["job", job.id],
    ["kind", job.kind],
    ["status", job.status],
    ["queue", job.queue ?? "each entry's own queue"],
    ["selected", job.total],
    ["sent", job.sent],
    ["rate", `${job.rate_per_second}/s`],
    ["eta", job.status === "running" ? formatDuration(job.eta_seconds) : "-"],
    ["requested by", job.requested_by],
    ["started", shortTime(job.created_at)],
    ["finished", shortTime(job.finished_at)],
    ...(job.last_error ? [["last error", job.last_error] as [string, string]] : []),
  ]);
}

async function finishJob(client: AdminClient, job: Json, values: Values, io: CliIo): Promise<number> {
  if (values["no-wait"]) {
    io.stdout.write(`${jobSummary(job)}\nfollow it: npm run edgebus -- replay status ${job.id} --wait\n`);
    return 0;
  }
  io.stdout.write(`job ${job.id}: ${job.total} to send at ${job.rate_per_second}/s\n`);
  const final = await followJob(job.id, { getJob: (id) => client.getJob(id), output: io.stdout });
  io.stdout.write(`${jobSummary(final)}\n`);
  return final.status === "completed" ? 0 : 1;
}

async function dlq(client: AdminClient, args: string[], values: Values, io: CliIo): Promise<number> {
  const [action, id, ...rest] = args;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  switch (action) {
    case "list": {
      const query: Record<string, string> = { ...deadLetterFilters(values) };
      if (values.status) query.status = values.status;
      if (values.limit) query.limit = String(positiveInt(values.limit, "--limit"));
      if (values.cursor) query.cursor = values.cursor;
      const entries: Json[] = [];
      let next: string | null = null;
      do {
        const page = await client.listDeadLetters(next === null ? query : { ...query, cursor: next });
        entries.push(...page.dead_letters);
        next = page.next_cursor;
      } while (values.all && next !== null);
      if (values.json) io.stdout.write(`${JSON.stringify({ dead_letters: entries, next_cursor: next }, null, 2)}\n`);
      else if (entries.length === 0) io.stdout.write("no dead letters match\n");
      else {
        io.stdout.write(`${deadLetterTable(entries)}\n`);
        io.stdout.write(`${entries.length} shown${next ? `; more: add --cursor ${next} (or --all)` : ""}\n`);
      }
      return 0;
    }
    case "show": {
      if (!id) throw new UsageError("dlq show needs an id");
      const entry = await client.getDeadLetter(id);
      if (values.json) {
        io.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
        return 0;
      }
      io.stdout.write(
        `${renderPairs([
          ["id", entry.id],
          ["status", entry.status],
          ["queue", entry.queue],
          ["consumer", entry.consumer],
          ["event", `${entry.event.type} ${entry.event.source} ${entry.event.id}`],
          ["error", `${entry.error.code}: ${entry.error.message}`],
          ["error type", entry.error.type],
          ["reason", entry.error.reason],
          ["attempts", entry.attempts],
          ["failures", entry.failure_count],
          ["first failed", shortTime(entry.first_failed_at)],
          ["last failed", shortTime(entry.last_failed_at)],
          ["replayed", entry.replayed_at ? `${shortTime(entry.replayed_at)} by ${entry.replayed_by}` : "-"],
          [
            "discarded",
            entry.discarded_at
              ? `${shortTime(entry.discarded_at)} by ${entry.discarded_by}: ${entry.discarded_reason}`
              : "-",
          ],
        ])}\n\nerror details:\n${JSON.stringify(entry.error.details, null, 2)}\n\nevent:\n${JSON.stringify(entry.body, null, 2)}\n`,
      );
      return 0;
    }
    case "replay": {
      if (id !== undefined) {
        const entry = await client.replayDeadLetter(id);
        if (values.json) io.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
        else
          io.stdout.write(`dead letter ${entry.id} sent back to ${entry.queue} (replayed by ${entry.replayed_by})\n`);
        return 0;
      }
      const filters = deadLetterFilters(values);
      if (Object.keys(filters).length === 0 && !values.all) {
        throw new UsageError(
          "dlq replay without an id redrives by filter: give filters, or --all for every pending entry",
        );
      }
      const rate = positiveInt(values.rate, "--rate");
      const body: Json = {
        ...filters,
        ...(rate === undefined ? {} : { rate_per_second: rate }),
        ...(values.all ? { all: true } : {}),
      };
      if (values["dry-run"]) {
        const result = await client.redriveDeadLetters({ ...body, dry_run: true });
        if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          const perQueue = Object.entries(result.by_queue as Record<string, number>);
          io.stdout.write(`dry run: ${result.matched} pending dead letter(s) would be replayed\n`);
          if (perQueue.length > 0) {
            io.stdout.write(
              `${renderTable(perQueue, [
                { header: "QUEUE", value: ([queue]) => queue },
                { header: "COUNT", value: ([, count]) => count, align: "right" },
              ])}\n`,
            );
          }
          if (result.sample.length > 0)
            io.stdout.write(`\nfirst ${result.sample.length}:\n${deadLetterTable(result.sample)}\n`);
        }
        return 0;
      }
      const { job } = await client.redriveDeadLetters(body);
      if (values.json) {
        io.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
        return 0;
      }
      return finishJob(client, job, values, io);
    }
    case "discard": {
      if (!id) throw new UsageError("dlq discard needs an id");
      if (!values.reason) throw new UsageError("dlq discard needs --reason TEXT (kept with the entry)");
      const entry = await client.discardDeadLetter(id, values.reason);
      if (values.json) io.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
      else io.stdout.write(`dead letter ${entry.id} discarded by ${entry.discarded_by}: ${entry.discarded_reason}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown dlq command '${action ?? ""}' (list, show, replay, discard)`);
  }
}

async function replay(client: AdminClient, args: string[], values: Values, io: CliIo): Promise<number> {
  const [action, id, ...rest] = args;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  if (action === "status" || action === "cancel") {
    if (!id) throw new UsageError(`replay ${action} needs a job id`);
    const job = action === "cancel" ? await client.cancelJob(id) : await client.getJob(id);
    if (values.json) io.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
    else if (action === "status" && values.wait && job.status === "running") return finishJob(client, job, values, io);
    else io.stdout.write(`${progressLine(job, false)}\n${jobSummary(job)}\n`);
    return action === "status" && job.status === "failed" ? 1 : 0;
  }
  if (action !== undefined) throw new UsageError(`unknown replay command '${action}' (status, cancel, or flags)`);
  for (const flag of ["type", "from", "queue"] as const) {
    if (!values[flag]) throw new UsageError(`replay needs --${flag} (see --help)`);
  }
  const rate = positiveInt(values.rate, "--rate");
  const body: Json = {
    type: values.type,
    from: values.from,
    ...(values.to ? { to: values.to } : {}),
    queue: values.queue,
    ...(rate === undefined ? {} : { rate_per_second: rate }),
    ...(values.rebuild ? { rebuild: true } : {}),
  };
  if (values["dry-run"]) {
    const result = await client.replayArchive({ ...body, dry_run: true });
    if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      io.stdout.write(`dry run: ${result.matched} archived event(s) would be sent to ${values.queue}\n`);
      if (values.rebuild) {
        io.stdout.write(`--rebuild would first empty the read model ${values.queue} feeds and its consumer's ledger\n`);
      }
      if (result.sample.length > 0) {
        io.stdout.write(
          `${renderTable(result.sample as Json[], [
            { header: "TIME", value: (e) => shortTime(e.time) },
            { header: "TYPE", value: (e) => e.type },
            { header: "SOURCE", value: (e) => e.source },
            { header: "ID", value: (e) => e.id },
          ])}\n`,
        );
      }
    }
    return 0;
  }
  const result = await client.replayArchive(body);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  if (result.reset) {
    io.stdout.write(
      `rebuild: emptied the read model (${result.reset.rows} rows) and its consumer's ledger (${result.reset.ledger_rows} rows)\n`,
    );
  }
  return finishJob(client, result.job, values, io);
}

/** Runs one CLI invocation; returns the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    io.stderr.write(`edgebus: ${error instanceof Error ? error.message : String(error)}\nrun with --help for usage\n`);
    return 2;
  }
  if (values.help || positionals.length === 0) {
    (values.help ? io.stdout : io.stderr).write(HELP);
    return values.help ? 0 : 2;
  }
  const apiKey = values.key ?? io.env.EDGEBUS_API_KEY;
  const baseUrl = values.url ?? io.env.EDGEBUS_API_URL ?? "http://127.0.0.1:8787";
  try {
    if (!apiKey) throw new UsageError("no API key: set EDGEBUS_API_KEY or pass --key (a key with the admin scope)");
    const client = new AdminClient({ baseUrl, apiKey });
    const [command, ...rest] = positionals;
    if (command === "dlq") return await dlq(client, rest, values, io);
    if (command === "replay") return await replay(client, rest, values, io);
    if (command === "subscriptions") return await subscriptionsCommand(client, rest, values, io.stdout);
    throw new UsageError(`unknown command '${command}' (dlq, replay, subscriptions)`);
  } catch (error) {
    if (error instanceof UsageError || error instanceof SubscriptionUsageError) {
      io.stderr.write(`edgebus: ${error.message}\nrun with --help for usage\n`);
      return 2;
    }
    if (error instanceof AdminApiError) {
      // The API's message already names every invalid field.
      io.stderr.write(`edgebus: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdout: { isTTY: Boolean(process.stdout.isTTY), write: (text) => process.stdout.write(text) },
    stderr: { write: (text) => process.stderr.write(text) },
  });
  process.exitCode = code;
}
