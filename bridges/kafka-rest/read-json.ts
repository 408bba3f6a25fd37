import type { Context } from "hono";
import type { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";

/**
 * Reads and validates a JSON body with a size limit. `undefined` when the body is empty (the
 * client sends no body for "commit last consumed"), when `optional`.
 */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: { maxBytes: number; optional?: boolean },
): Promise<z.infer<T> | undefined> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > options.maxBytes) {
    throw new EdgebusError("payload_too_large", `body larger than ${options.maxBytes} bytes`);
  }
  const text = await c.req.text();
  if (Buffer.byteLength(text) > options.maxBytes) {
    throw new EdgebusError("payload_too_large", `body larger than ${options.maxBytes} bytes`);
  }
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
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new EdgebusError("bad_request", "request body does not match the protocol", {
      details: result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return result.data;
}
