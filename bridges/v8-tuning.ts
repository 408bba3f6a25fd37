import v8 from "node:v8";

/**
 * V8 settings for a process that serves the bridge; whatever owns the process (`main.ts`, the
 * benchmarks' bridge process) calls this before the bridge serves.
 *
 * **Allocation-site pretenuring is turned off.** V8 counts, per place in the code that allocates,
 * how many of its objects survive a young-generation collection (a scavenge), and once most do it
 * allocates that place's objects straight in the old generation. The bridge's traffic defeats the
 * heuristic: a request's objects (its records, their bytes, the Kafka client's request buffers)
 * live exactly as long as the request, a few milliseconds until the broker acknowledges, so the
 * requests in flight at each scavenge make the places that allocate them look long-lived. Once
 * pretenured, those objects die in the old generation, which only a full mark-compact clears, and
 * every old object still pointing at young ones is one more root each scavenge must scan.
 *
 * Measured on the Kafka REST produce path (the bridge in its own process, 100,000 messages of
 * `@upstash/kafka` batches per round, December 2026): with pretenuring 142–229 ms of collection
 * per 100,000 messages, two or three mark-compacts, 13.3–17.4 µs of CPU per message; without it
 * 48–91 ms, no mark-compact, 10.7–13.6 µs, and 67,000–71,000 instead of 54,000–64,000
 * messages/s. (Under tsx's module loader the same process did not get into that state, for a
 * reason not established; so the benchmarks' figures fell when the bridge moved from tsx to Node's
 * own type stripping: `bench/README.md`, bridge-produce.)
 *
 * Set at run time rather than as a `node` flag, so that every way of starting the bridge (`npm run
 * bridge`, a systemd unit, the dev stack, tests) gets it. V8 consults the flag at each collection
 * when it processes the survival counts, so setting it before serving is enough; the switch only
 * changes where V8 places new objects, never what a program can observe.
 */
export function tuneV8ForBridge(): void {
  v8.setFlagsFromString("--no-allocation-site-pretenuring");
}

/**
 * Node options every launcher of the bridge's process passes (`npm run bridge`, the dev stack, the
 * tests' and benchmarks' bridge processes): V8 settings it reads only while it creates the heap,
 * so `tuneV8ForBridge` cannot set them later. Without them the bridge works as before; `main.ts`
 * says so in a warning.
 *
 * **V8's memory reducer is turned off.** When no full collection has run for 100 seconds (a
 * watchdog), or the allocation rate drops, the reducer runs up to two mark-compacts that shrink
 * the heap to what is live, then lets it grow back slowly. With pretenuring off (above), the
 * bridge's old generation fills slowly, so under steady traffic the watchdog fires every couple
 * of minutes: the heap V8 reserves falls from about 200 to 55-65 MB, RSS drops by 100-150 MB and
 * climbs back over the next minute, through dozens of extra mark-compacts (one every 0.5-1 s
 * while the heap regrows). Measured with the soak benchmark (5,000 messages/s, 6 minutes,
 * `--trace-gc`, December 2026): 45 mark-compacts and RSS within ±36 % of its median with the
 * reducer; 11 mark-compacts and RSS steady at 326-332 MB once the heap had reached its working
 * size without it. (Keeping the reducer but without its shrink, `--no-memory-reducer-favors-memory`,
 * which can be set at run time, left V8 in its grow-slowly state for good: 132 mark-compacts.)
 * The price: memory the bridge grew into under load is not handed back when the traffic stops
 * until a later collection shrinks the heap; a server sized for its load keeps it anyway.
 *
 * **The old generation starts at 32 MB** (`--initial-old-space-size`; it still grows as far as
 * the live data needs). V8 otherwise sizes its first old-generation limit from the machine's
 * memory: the bridge's old generation, whose live part is 35-45 MB under the soak's load, then
 * filled with garbage until the first full collection 100-140 s into the load, and RSS rose for
 * that long before it reached its working size (soaks with the reducer off: ±11 and ±11.6 % from
 * the 60th second, steady within ±1 % from the 150th). Starting at 32 MB the first full
 * collection came 20-85 s into the load and the later ones every 20-95 s, each 4-8 ms plus
 * incremental steps. In five soaks with both settings RSS held within ±3.1, ±4.7 and ±5.3 % of its
 * median (302-318 MB) from the 60th second on, at 11-13 % of one core as before; in two it rose
 * late (to ±11.9 and ±17.6 %): V8 chose a high growth factor after one full collection and let
 * the old generation's garbage pile up for 147 s, and RSS kept the pages of that highest point.
 * A fixed factor (`--heap-growing-percent=50`) kept four soaks within ±1.2-4.5 %, but cost the
 * Kafka produce paths about a quarter more CPU per message at full speed (more full
 * collections), so V8 keeps choosing (`bench/README.md`, bridge-soak).
 */
export const BRIDGE_NODE_OPTIONS: readonly string[] = ["--no-memory-reducer", "--initial-old-space-size=32"];

/** The entries of `BRIDGE_NODE_OPTIONS` a process was started without (its `process.execArgv`). */
export function missingBridgeNodeOptions(execArgv: readonly string[] = process.execArgv): string[] {
  return BRIDGE_NODE_OPTIONS.filter((option) => !execArgv.includes(option));
}

/**
 * What follows `node` to start the bridge with `configFile` from the repository root, as `npm run
 * bridge` starts it (`nodeOptions` replaced only to show what happens without them).
 */
export function bridgeProcessArgs(configFile: string, nodeOptions: readonly string[] = BRIDGE_NODE_OPTIONS): string[] {
  return [...nodeOptions, "bridges/main.ts", "--config", configFile];
}
