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
