import { EdgebusError } from "#shared/errors.ts";

/**
 * Reads a request body as UTF-8 text, refusing (413) as soon as it exceeds `maxBytes` — from
 * `Content-Length` when given, otherwise while streaming — so an oversized body is never
 * buffered whole.
 */
export async function readBodyText(request: Request, maxBytes: number, what: string): Promise<string> {
  const tooLarge = (actual?: number) =>
    new EdgebusError("payload_too_large", `${what} may be at most ${maxBytes} bytes`, {
      details: { limit: maxBytes, ...(actual === undefined ? {} : { actual }) },
    });
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(declared);
  if (request.body === null) return "";

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new EdgebusError("malformed_json", "the request body is not valid UTF-8");
  }
}
