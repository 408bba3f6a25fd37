/**
 * Follows a replay job (`GET /v1/replay/{id}`) until it finishes. On a terminal it redraws one
 * progress bar line; otherwise (a pipe, CI, a log file) it prints a plain line whenever the
 * count changes, so logs stay readable.
 */
import type { Json } from "./admin-client.ts";

export interface ProgressOutput {
  readonly isTTY: boolean;
  write(text: string): void;
}

const BAR_WIDTH = 30;

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** One status line of a job: `[#####·····]  42% 126/300 sent · 50/s · ETA 4s`. */
export function progressLine(job: Json, withBar: boolean): string {
  const total = Number(job.total);
  const sent = Number(job.sent);
  const fraction = total === 0 ? 1 : Math.min(1, sent / total);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = withBar ? `[${"#".repeat(filled)}${"·".repeat(BAR_WIDTH - filled)}] ` : "";
  const eta = job.status === "running" ? ` · ETA ${formatDuration(Number(job.eta_seconds))}` : ` · ${job.status}`;
  return `${bar}${percent} ${sent}/${total} sent · ${job.rate_per_second}/s${eta}`;
}

export interface FollowOptions {
  readonly getJob: (id: string) => Promise<Json>;
  readonly output: ProgressOutput;
  readonly intervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Polls until the job is no longer running; returns its final state. */
export async function followJob(id: string, options: FollowOptions): Promise<Json> {
  const { getJob, output, intervalMs = 500 } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let lastPlain = "";
  for (;;) {
    const job = await getJob(id);
    if (output.isTTY) {
      output.write(`\r${progressLine(job, true)}\u001b[K`);
    } else {
      const line = progressLine(job, false);
      if (line !== lastPlain) output.write(`${line}\n`);
      lastPlain = line;
    }
    if (job.status !== "running") {
      if (output.isTTY) output.write("\n");
      return job;
    }
    await sleep(intervalMs);
  }
}
