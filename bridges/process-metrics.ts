import { readdir } from "node:fs/promises";
import { type ELDHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { MetricFamily } from "./metrics.ts";

/**
 * The bridge process's own health, computed at scrape time under the names Prometheus's client
 * libraries give them (so a standard Node.js dashboard reads them unchanged): CPU time, resident
 * memory and how V8 splits it (its heap, and memory held outside it by buffers — Kafka batches,
 * request bodies), open file descriptors (Linux), the start time, and how long callbacks waited
 * for the event loop since the previous scrape.
 *
 * Guarantees: nothing is sampled between scrapes but the event-loop delay (a libuv timer every
 * `resolutionMs`, unreferenced: it keeps no process alive); the delay figures cover the time since
 * the previous scrape, as the client libraries' do, so a second scraper shortens the first one's
 * window; `close()` stops the timer.
 */
export class ProcessMetrics {
  readonly #loopDelay: ELDHistogram;
  readonly #startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);

  constructor(resolutionMs = 10) {
    this.#loopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#loopDelay.enable();
  }

  async families(): Promise<MetricFamily[]> {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const gauge = (name: string, help: string, value: number): MetricFamily => ({
      name,
      help,
      type: "gauge",
      samples: [{ labels: {}, value }],
    });
    const families: MetricFamily[] = [
      {
        name: "process_cpu_seconds_total",
        help: "User and system CPU time the bridge process spent, in seconds",
        type: "counter",
        samples: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }],
      },
      gauge(
        "process_start_time_seconds",
        "Start time of the bridge process since the Unix epoch, in seconds",
        this.#startSeconds,
      ),
      gauge("process_resident_memory_bytes", "Resident memory of the bridge process, in bytes", memory.rss),
      gauge("nodejs_heap_size_total_bytes", "V8 heap reserved, in bytes", memory.heapTotal),
      gauge("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes", memory.heapUsed),
      gauge(
        "nodejs_external_memory_bytes",
        "Memory of objects outside the V8 heap that it references (buffers), in bytes",
        memory.external,
      ),
    ];
    const fds = await openFileDescriptors();
    if (fds !== undefined) families.push(gauge("process_open_fds", "Open file descriptors (sockets included)", fds));
    // The histogram is in nanoseconds; with no sample yet (no full interval since the last reset) it reads 0.
    const delay = this.#loopDelay;
    const seconds = (nanoseconds: number) => (delay.count > 0 ? nanoseconds / 1e9 : 0);
    families.push(
      gauge(
        "nodejs_eventloop_lag_p99_seconds",
        "99th percentile of the event loop's delay since the previous scrape, in seconds",
        seconds(delay.percentile(99)),
      ),
      gauge(
        "nodejs_eventloop_lag_max_seconds",
        "Longest event loop delay since the previous scrape, in seconds",
        seconds(delay.max),
      ),
    );
    delay.reset();
    return families;
  }

  close(): void {
    this.#loopDelay.disable();
  }
}

/** The number of open file descriptors, where the system lists them (`/proc/self/fd` on Linux). */
async function openFileDescriptors(): Promise<number | undefined> {
  if (process.platform !== "linux") return undefined;
  try {
    // The listing opens one descriptor of its own to read the folder.
    return Math.max(0, (await readdir("/proc/self/fd")).length - 1);
  } catch {
    return undefined;
  }
}
