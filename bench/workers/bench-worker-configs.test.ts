import path from "node:path";
import { describe, expect, it } from "vitest";
import { wranglerConfigReader } from "../../scripts/provision.ts";

/**
 * The bench Workers stand for the producer, so their configs must not drift from the root
 * `wrangler.toml` (development, the top level) they copy: wrangler has no way to share vars or
 * bindings between configs, and a stale copy would measure a producer nobody runs.
 */
const root = path.resolve(import.meta.dirname, "../..");
const readConfig = await wranglerConfigReader();
const producer = readConfig(path.join(root, "wrangler.toml"), undefined);
const bench = (file: string) => readConfig(path.join(root, "bench/workers", file), undefined);

const producerQueue = (binding: string) =>
  (producer.queues.producers ?? []).find((queue) => queue.binding === binding)?.queue;

describe("bench Worker configs copy the producer's development config", () => {
  it("the producer without sends has the producer's vars, queue bindings and Hyperdrive", () => {
    const config = bench("wrangler.producer-without-sends.toml");
    const vars = Object.entries(config.vars ?? {});
    expect(vars.length).toBeGreaterThan(0);
    for (const [name, value] of vars) expect([name, value]).toEqual([name, producer.vars?.[name]]);
    expect(config.queues.producers).toEqual(producer.queues.producers);
    expect(config.hyperdrive).toEqual(producer.hyperdrive);
  });

  it.each(["wrangler.minimal-producer.toml", "wrangler.minimal-producer-sized.toml"])(
    "%s sends to the producer's event queues under the producer's binding names",
    (file) => {
      const producers = bench(file).queues.producers ?? [];
      expect(producers).toHaveLength(5);
      for (const { binding, queue } of producers) expect(queue).toBe(producerQueue(binding));
    },
  );
});
