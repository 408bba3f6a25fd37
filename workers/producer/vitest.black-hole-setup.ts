/**
 * A TCP server that accepts connections and never answers, for the producer's workerd tests of
 * Redis timeouts: pointed at it, `@upstash/redis` would wait forever without a deadline. Started
 * in Node and handed over with `provide()`.
 */
import type { TestProject } from "vitest/node";
import { startBlackHole } from "../../test/support/black-hole.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>`: accepts, reads, never answers. */
    blackHoleUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const blackHole = await startBlackHole();
  project.provide("blackHoleUrl", blackHole.url);
  return () => blackHole.close();
}
