import type { Context } from "hono";
import type { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { type BodyLimits, readBoundedText } from "../http/bounded-body.ts";

/**
 * Reads (within `maxBytes` and the area's budget, counted on the stream) and validates a JSON
 * body. `undefined` when the body is empty (the client sends no body for "commit last
 * consumed"), when `optional`.
 */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: BodyLimits & {
    optional?: boolean;
    /** A hand-written check of the common, valid case: its answer, or `undefined` to let `schema` decide (and explain). */
    fast?: (parsed: unknown) => z.infer<T> | undefined;
  },
): Promise<z.infer<T> | undefined> {
  return parseJsonBody(await readBoundedText(c, options), schema, options);
}

/** What `readJson` does with the text once read (also the lean produce route's check). */
export function parseJsonBody<T extends z.ZodType>(
  text: string,
  schema: T,
  options: { optional?: boolean; fast?: (parsed: unknown) => z.infer<T> | undefined },
): z.infer<T> | undefined {
  if (text.trim() === "") {
    if (options.optional) return undefined;
    throw new EdgebusError("bad_request", "request body is required");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new EdgebusError("malformed_json", "request body is not valid JSON");
  }
  const quick = options.fast?.(parsed);
  if (quick !== undefined) return quick;
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new EdgebusError("bad_request", "request body does not match the protocol", {
      details: result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return result.data;
}
