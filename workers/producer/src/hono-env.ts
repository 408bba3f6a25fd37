import type { Hono } from "hono";
import type { Capabilities } from "./capabilities.ts";

/** Hono typing of the producer: raw bindings in, validated capabilities per request. */
export interface ProducerEnv {
  Bindings: Record<string, unknown>;
  Variables: { requestId: string; caps: Capabilities };
}

export type ProducerApp = Hono<ProducerEnv>;
