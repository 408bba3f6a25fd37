import { EdgebusError } from "#shared/errors.ts";

/** One decoder for every request: `decode` without `stream` keeps no state between calls. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a request body as UTF-8 text, refusing (413) as soon as it exceeds `maxBytes` — from
 * `Content-Length` when given, otherwise while streaming — so an oversized body is never
 * buffered whole. Invalid UTF-8 is refused (400 `malformed_json`), not replaced.
 */
export async function readBodyText(request: Request, maxBytes: number, what: string): Promise<string> {
  const tooLarge = (actual?: number) =>
    new EdgebusError("payload_too_large", `${what} may be at most ${maxBytes} bytes`, {
      details: { limit: maxBytes, ...(actual === undefined ? {} : { actual }) },
    });
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(declared);
  const stream = request.body;
  if (stream === null) return "";
  // With a declared length within the limit the runtime reads no more than that (a body that
  // disagrees with its Content-Length is a broken request), so it is read in one native call;
  // the chunk loop below is for bodies of unknown length.
  const bytes = Number.isFinite(declared) ? new Uint8Array(await request.arrayBuffer()) : await readLimited(stream);
  if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new EdgebusError("malformed_json", "the request body is not valid UTF-8");
  }

  async function readLimited(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
    const reader = body.getReader();
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
    return bytes;
  }
}
