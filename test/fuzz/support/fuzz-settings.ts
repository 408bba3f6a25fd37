/**
 * How many runs each fuzz property makes, and the tally every suite prints at the end.
 *
 * `EDGEBUS_FUZZ_RUNS=<n>` sets the runs of every property (the full form, e.g. 2000 locally);
 * unset, each property uses its own short default, sized so the suites finish in about a minute
 * in CI. `EDGEBUS_FUZZ_SEED=<n>` replays a failing run (fast-check prints the seed and path).
 * Web-standard only: the workerd suites receive the two values from their globalSetup.
 */
import type fc from "fast-check";

export interface FuzzSettings {
  /** Runs per property from `EDGEBUS_FUZZ_RUNS`, or undefined for each property's short default. */
  readonly runs: number | undefined;
  readonly seed: number | undefined;
}

function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1)
    throw new Error(`${name} must be a positive integer, got "${value}"`);
  return parsed;
}

export function parseFuzzSettings(env: { EDGEBUS_FUZZ_RUNS?: string; EDGEBUS_FUZZ_SEED?: string }): FuzzSettings {
  const seed = env.EDGEBUS_FUZZ_SEED;
  return {
    runs: positiveInteger("EDGEBUS_FUZZ_RUNS", env.EDGEBUS_FUZZ_RUNS),
    seed: seed === undefined || seed.trim() === "" ? undefined : Number(seed),
  };
}

/** fast-check parameters for one property: `shortRuns` unless EDGEBUS_FUZZ_RUNS says otherwise. */
export function fuzzParameters<T>(settings: FuzzSettings, shortRuns: number): fc.Parameters<T> {
  return {
    numRuns: settings.runs ?? shortRuns,
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
  };
}

/** Per-test timeout for a suite of properties: generous for the full form, still bounded. */
export function fuzzTimeoutMs(settings: FuzzSettings): number {
  return settings.runs === undefined ? 120_000 : 60_000 + settings.runs * 500;
}

/**
 * Counts what each property saw (runs and HTTP statuses) and prints one line per property, so a
 * run shows that the hostile inputs reached every kind of answer (a fuzz that only ever hit 401
 * would test little).
 */
export class FuzzTally {
  readonly #byProperty = new Map<string, Map<string, number>>();

  private readonly suite: string;

  constructor(suite: string) {
    this.suite = suite;
  }

  record(property: string, outcome: number | string): void {
    const counts = this.#byProperty.get(property) ?? new Map<string, number>();
    const key = String(outcome);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    this.#byProperty.set(property, counts);
  }

  runs(property: string): number {
    let total = 0;
    for (const count of this.#byProperty.get(property)?.values() ?? []) total += count;
    return total;
  }

  outcomes(property: string): ReadonlyMap<string, number> {
    return this.#byProperty.get(property) ?? new Map();
  }

  /** One line per property: `fuzz <suite> › <property>: <runs> runs, statuses 202×3 400×17`. */
  lines(): string[] {
    return [...this.#byProperty].map(([property, counts]) => {
      const statuses = [...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, count]) => `${status}×${count}`)
        .join(" ");
      return `fuzz ${this.suite} › ${property}: ${this.runs(property)} runs, statuses ${statuses}`;
    });
  }

  print(): void {
    for (const line of this.lines()) console.log(line);
  }
}
