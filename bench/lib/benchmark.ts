/** What bench/run.ts needs from a benchmark module, and what it hands to one. */
import type { BenchmarkReport } from "./result-file.ts";

export interface BenchContext {
  /** A short run (seconds, not minutes) that checks the machinery; figures are not comparable. */
  quick: boolean;
  /** Progress lines while running. */
  log(message: string): void;
  /** The bench database (created and migrated by the runner). */
  databaseUrl: string;
  kafkaBrokers: string;
  redisUrl: string;
}

export interface Benchmark {
  /** File name under bench/results/ and the name on the command line. */
  name: string;
  title: string;
  run(context: BenchContext): Promise<BenchmarkReport>;
}
