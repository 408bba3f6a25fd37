/**
 * CPU seconds spent by named groups of processes over a stretch of time, read from
 * `/proc/<pid>/stat` (user + system time). Unlike wall-clock throughput this does not move when
 * other work shares the machine: a process's CPU time is its own, so "CPU seconds per 1,000
 * events" stays comparable on a busy machine.
 *
 * Processes that start and exit between samples (a Postgres backend per Worker invocation) are
 * caught by sampling every `periodMs`: a process seen once is counted up to its last sample, so a
 * short-lived one loses at most one period of its time (the figure is a lower bound). Linux only.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's times (`getconf CLK_TCK`; 100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The executable's name (`comm`, at most 15 characters). */
  readonly comm: string;
  /** The command line, arguments joined by spaces. */
  readonly cmdline: string;
  /** User + system CPU of the process itself, in seconds. */
  readonly cpuSeconds: number;
  /** User + system CPU of its children it already waited for, in seconds. */
  readonly reapedChildrenCpuSeconds: number;
}

export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // `comm` is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // Fields after comm, 0-based: state 0, ppid 1, … utime 11, stime 12, cutime 13, cstime 14.
    const ticks = (index: number) => Number(fields[index]);
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {
      // exited between the two reads
    }
    return {
      pid,
      ppid: ticks(1),
      comm,
      cmdline,
      cpuSeconds: (ticks(11) + ticks(12)) / TICKS_PER_SECOND,
      reapedChildrenCpuSeconds: (ticks(13) + ticks(14)) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

export function listProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry));
    if (info) processes.push(info);
  }
  return processes;
}

/** The pids of `root` and every process below it. */
export function descendantsOf(root: number, processes: readonly ProcessInfo[]): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop() as number) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/**
 * Where a process's CPU goes: `group` gets what it used while sampled (a process that exits in
 * between loses its last period); `reapedChildren` gets the CPU of the children it waited for
 * during the stretch (a server that forks a process per connection, like Postgres: exited
 * backends counted in full), and then `childrenGroup` names the group whose members must be
 * counted only while alive at the end, so the two are not counted twice. Called once per new
 * process with the whole snapshot (for ancestry).
 */
export interface ProcessGroups {
  readonly group?: string;
  readonly reapedChildren?: string;
  /** Counted only when still running when the stretch ends (their CPU is in a parent's `reapedChildren` otherwise). */
  readonly aliveOnly?: string;
  /** Counts the process under this name in `CpuReport.started` when it started during the stretch. */
  readonly countAs?: string;
}

export type ProcessClassifier = (
  process: ProcessInfo,
  context: { readonly processes: readonly ProcessInfo[] },
) => ProcessGroups | undefined;

export interface CpuReport {
  /** CPU seconds per group over the measured stretch. */
  readonly cpuSeconds: Record<string, number>;
  /** Distinct processes seen per `group`. */
  readonly processes: Record<string, number>;
  /** Processes started during the stretch, per `countAs` (e.g. Postgres backends: connections opened). */
  readonly started: Record<string, number>;
  readonly wallSeconds: number;
}

interface Sampled {
  readonly groups: ProcessGroups;
  readonly isNew: boolean;
  readonly cpu: number;
  readonly reaped: number;
}

/**
 * Samples every process every `periodMs` from `start()` to `stop()` and sums, per group, how
 * much CPU each process used in between (from its first sample in the stretch — or from zero
 * for a process started during it — to its last).
 */
export class CpuMeter {
  readonly #first = new Map<number, Sampled>();
  readonly #last = new Map<number, { cpu: number; reaped: number }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = 0;
  #startedPids = new Set<number>();

  private readonly classify: ProcessClassifier;
  private readonly periodMs: number;

  constructor(classify: ProcessClassifier, periodMs = 200) {
    this.classify = classify;
    this.periodMs = periodMs;
  }

  start(): void {
    this.#first.clear();
    this.#last.clear();
    this.#started = performance.now();
    const processes = listProcesses();
    this.#startedPids = new Set(processes.map((p) => p.pid));
    this.#sample(processes);
    this.#timer = setInterval(() => this.#sample(listProcesses()), this.periodMs);
  }

  stop(): CpuReport {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const final = listProcesses();
    this.#sample(final);
    const alive = new Set(final.map((p) => p.pid));
    const cpuSeconds: Record<string, number> = {};
    const processes: Record<string, number> = {};
    const started: Record<string, number> = {};
    const add = (group: string | undefined, seconds: number) => {
      if (group !== undefined) cpuSeconds[group] = (cpuSeconds[group] ?? 0) + seconds;
    };
    for (const [pid, first] of this.#first) {
      const last = this.#last.get(pid) ?? first;
      const { group, reapedChildren, aliveOnly } = first.groups;
      add(group, last.cpu - first.cpu);
      if (group !== undefined) processes[group] = (processes[group] ?? 0) + 1;
      add(reapedChildren, last.reaped - first.reaped);
      if (alive.has(pid)) add(aliveOnly, last.cpu - first.cpu);
      const { countAs } = first.groups;
      if (countAs !== undefined && first.isNew) started[countAs] = (started[countAs] ?? 0) + 1;
    }
    return { cpuSeconds, processes, started, wallSeconds: (performance.now() - this.#started) / 1000 };
  }

  #sample(processes: readonly ProcessInfo[]): void {
    for (const process of processes) {
      if (!this.#first.has(process.pid)) {
        const groups = this.classify(process, { processes });
        if (groups === undefined) continue;
        // Started during the stretch: all of its CPU counts.
        const old = this.#startedPids.has(process.pid);
        this.#first.set(process.pid, {
          groups,
          isNew: !old,
          cpu: old ? process.cpuSeconds : 0,
          reaped: old ? process.reapedChildrenCpuSeconds : 0,
        });
      }
      this.#last.set(process.pid, { cpu: process.cpuSeconds, reaped: process.reapedChildrenCpuSeconds });
    }
  }
}
