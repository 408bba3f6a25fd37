import type { ConsumerMessage } from "./consumer-message.ts";
import type { Outcome } from "./outcome.ts";

/** Handles one message. May throw; the middleware turns throws into outcomes. */
export type Handler<Body = unknown> = (message: ConsumerMessage<Body>) => Promise<Outcome>;

/** Wraps a handler (watermill style): retry policy, dead-lettering, dedup, logging. */
export type Middleware<Body = unknown> = (next: Handler<Body>) => Handler<Body>;

/**
 * `compose(handler, a, b, c)` = `a(b(c(handler)))`: the first middleware is the outermost,
 * so it sees the final outcome of everything inside it.
 */
export function compose<Body>(handler: Handler<Body>, ...middleware: readonly Middleware<Body>[]): Handler<Body> {
  return middleware.reduceRight<Handler<Body>>((next, wrap) => wrap(next), handler);
}
