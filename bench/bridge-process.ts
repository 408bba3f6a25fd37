/**
 * The bridge side of a bridge benchmark in its own process, as it is deployed: the clients (the
 * Workers at the edge, `@upstash/kafka`, the kafka-mirror Worker) never share the bridge's
 * process, so neither their CPU nor their garbage lands on the bridge's event loop.
 *
 * The parent calls `forkBridge(moduleUrl, exportName, parameters)`: this file is started as a child
 * (`node bench/bridge-process.ts`: Node strips the types itself, as `npm run bridge` runs the bridge,
 * with no transpiler loaded), imports `exportName` from `module` (a
 * `BenchBridgeFactory`), builds the bridge with `parameters` and serves it. The parent then asks
 * it, over the IPC channel, for the Kafka produce requests sent so far, its process CPU time, or a
 * CPU profile of the time between two calls (`profile(work)`).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BRIDGE_NODE_OPTIONS, tuneV8ForBridge } from "../bridges/v8-tuning.ts";
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";

/** What a bench module exports for the child: the bridge built and served on 127.0.0.1. */
export type BenchBridgeFactory = (parameters: Record<string, unknown>) => Promise<BenchBridge>;

export interface BenchBridge {
  readonly url: string;
  /** Kafka produce requests the bridge's producer sent so far (0 for a bridge without one). */
  requestsSent(): number;
  /** Further counts the benchmark reads (e.g. HTTP requests served, Redis socket writes). */
  counters?(): Record<string, number>;
  close(): Promise<void>;
}

/** The parent's handle on the bridge process. */
export interface BridgeProcess {
  readonly url: string;
  requestsSent(): Promise<number>;
  /** The bridge's `counters()` so far (empty when it has none). */
  counters(): Promise<Record<string, number>>;
  /** User + system CPU time of the bridge process so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Runs `work` (in the parent) while the bridge process profiles itself. */
  profile(work: () => Promise<void>): Promise<ProfileSummary>;
  close(): Promise<void>;
}

type Ask = { id: number; op: "requests" | "counters" | "cpu" | "profile-start" | "profile-stop" | "close" };
type Answer = { id: number; value?: unknown; error?: string };

export async function forkBridge(
  /** e.g. `new URL("./bridge-produce.ts", import.meta.url).href` */
  module: string,
  exportName: string,
  parameters: Record<string, unknown>,
): Promise<BridgeProcess> {
  const child = fork(fileURLToPath(import.meta.url), [module, exportName, JSON.stringify(parameters)], {
    // Not the parent's flags (tsx's loader): the bridge's own, as `npm run bridge` runs it.
    execArgv: [...BRIDGE_NODE_OPTIONS],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`the bench bridge process exited (code ${code}) before serving`)));
  });
  let next = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on("message", (message) => {
    const answer = message as Answer;
    const waiter = pending.get(answer.id);
    pending.delete(answer.id);
    if (answer.error !== undefined) waiter?.reject(new Error(answer.error));
    else waiter?.resolve(answer.value);
  });
  const ask = (op: Ask["op"]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ id, op } satisfies Ask);
    });
  return {
    url,
    requestsSent: async () => (await ask("requests")) as number,
    counters: async () => (await ask("counters")) as Record<string, number>,
    cpuMicros: async () => (await ask("cpu")) as number,
    async profile(work) {
      await ask("profile-start");
      let failure: unknown;
      try {
        await work();
      } catch (error) {
        failure = error;
      }
      // Stopped either way, so a failed run leaves no profiler running in the child.
      const summary = (await ask("profile-stop")) as ProfileSummary;
      if (failure !== undefined) throw failure;
      return summary;
    },
    async close() {
      await ask("close");
      await exited(child);
    },
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** The child: builds the bridge, tells the parent its URL, answers the parent's questions. */
async function serveInChild(module: string, exportName: string, parameters: string): Promise<void> {
  // As `bridges/main.ts` sets up the process it owns.
  tuneV8ForBridge();
  const factory = (await import(module))[exportName] as BenchBridgeFactory;
  const bridge = await factory(JSON.parse(parameters) as Record<string, unknown>);
  let stopProfile: (() => void) | undefined;
  let profiled: Promise<ProfileSummary> | undefined;
  const send = (answer: Answer) => process.send?.(answer);
  process.on("message", async (message) => {
    const { id, op } = message as Ask;
    try {
      if (op === "requests") send({ id, value: bridge.requestsSent() });
      else if (op === "counters") send({ id, value: bridge.counters?.() ?? {} });
      else if (op === "cpu") {
        const { user, system } = process.cpuUsage();
        send({ id, value: user + system });
      } else if (op === "profile-start") {
        const stopped = new Promise<void>((resolve) => {
          stopProfile = resolve;
        });
        profiled = profileCpu(() => stopped);
        send({ id });
      } else if (op === "profile-stop") {
        stopProfile?.();
        send({ id, value: await profiled });
      } else if (op === "close") {
        await bridge.close();
        send({ id });
        process.disconnect();
      }
    } catch (error) {
      send({ id, error: (error as Error).message });
    }
  });
  process.send?.({ url: bridge.url });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [module, exportName, parameters] = process.argv.slice(2) as [string, string, string];
  // Not awaited at the top level: `module` imports this file, which must finish evaluating first.
  serveInChild(module, exportName, parameters).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** Process CPU per message of one way: this process's (the clients, and in-process the bridge too) and the bridge process's. */
export type WayCpu = { this_process: number } | { clients_process: number; bridge_process: number };

/**
 * `ways` with the process CPU (user + system) of every run counted, this process's and the bridge
 * process's; `perMessage()` gives each way's totals per message, the bridge process's only for
 * the ways `inBridgeProcess` names.
 */
export function cpuCounted<T extends { messages: number }>(
  ways: Record<string, () => Promise<T>>,
  bridge: BridgeProcess,
  inBridgeProcess: (name: string) => boolean,
): { ways: Record<string, () => Promise<T>>; perMessage(): Record<string, WayCpu> } {
  const spent: Record<string, { messages: number; client: number; bridge: number }> = {};
  const counted = Object.fromEntries(
    Object.entries(ways).map(([name, way]) => [
      name,
      async () => {
        const clientBefore = process.cpuUsage();
        const bridgeBefore = await bridge.cpuMicros();
        const figures = await way();
        const client = process.cpuUsage(clientBefore);
        const bridgeMicros = (await bridge.cpuMicros()) - bridgeBefore;
        const entry = spent[name] ?? { messages: 0, client: 0, bridge: 0 };
        entry.messages += figures.messages;
        entry.client += client.user + client.system;
        entry.bridge += bridgeMicros;
        spent[name] = entry;
        return figures;
      },
    ]),
  );
  const perMessage = (micros: number, messages: number) => Math.round((10 * micros) / messages) / 10;
  return {
    ways: counted,
    perMessage: () =>
      Object.fromEntries(
        Object.entries(spent).map(([name, s]) => [
          name,
          inBridgeProcess(name)
            ? { clients_process: perMessage(s.client, s.messages), bridge_process: perMessage(s.bridge, s.messages) }
            : { this_process: perMessage(s.client, s.messages) },
        ]),
      ),
  };
}
