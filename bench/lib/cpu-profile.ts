/**
 * CPU profiles for the benchmarks' hot paths, taken in-process with the V8 inspector (no flags),
 * summarised as the functions with the most self time and the most inclusive time. The summary
 * goes into the result file, so each committed figure says where its time went.
 */
import { Session } from "node:inspector/promises";

/** A V8 CPU profile as the inspector's `Profiler.stop` hands it over (the fields used here). */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to the repository or the package. */
  readonly function: string;
  readonly ms: number;
  /** Share of the profiled time, in percent. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly total_ms: number;
  readonly top_self: ProfileEntry[];
  readonly top_inclusive: ProfileEntry[];
}

function frameName({ functionName, url, lineNumber }: ProfileNode["callFrame"]): string {
  const file = url.includes("/node_modules/")
    ? url.slice(url.lastIndexOf("/node_modules/") + "/node_modules/".length)
    : url.replace(/^file:\/\/.*?\/(workers|shared|bridges|schemas|bench|scripts)\//, "$1/");
  return `${functionName || "(anonymous)"} (${file || "native"}${url ? `:${lineNumber + 1}` : ""})`;
}

function isWaiting({ functionName, url }: ProfileNode["callFrame"]): boolean {
  return functionName === "(idle)" || functionName === "(program)" || url === "node:inspector";
}

/** Top `limit` functions by self and by inclusive time of a V8 CPU profile (waiting left out). */
export function summariseProfile(profile: Profile, limit = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    // Waiting is not work: the event loop idling and the profiler's own session call.
    if (node === undefined || isWaiting(node.callFrame)) continue;
    total += micros;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + micros);
    // Each function once per stack, however often it recurses.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const frame = byId.get(current);
      if (frame === undefined || frame.callFrame.functionName === "(root)") continue;
      const frameKey = frameName(frame.callFrame);
      if (seen.has(frameKey)) continue;
      seen.add(frameKey);
      inclusive.set(frameKey, (inclusive.get(frameKey) ?? 0) + micros);
    }
  }
  const top = (times: Map<string, number>) =>
    [...times]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({
        function: name,
        ms: Math.round(micros / 100) / 10,
        percent: total === 0 ? 0 : Math.round((micros / total) * 1000) / 10,
      }));
  return { total_ms: Math.round(total / 1000), top_self: top(self), top_inclusive: top(inclusive) };
}

/** Runs `work` under the V8 CPU profiler of this process and summarises where the time went. */
export async function profileCpu(work: () => Promise<void>, limit = 15): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    let failure: unknown;
    try {
      await work();
    } catch (error) {
      failure = error;
    }
    const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
    if (failure !== undefined) throw failure;
    return summariseProfile(profile, limit);
  } finally {
    session.disconnect();
  }
}
