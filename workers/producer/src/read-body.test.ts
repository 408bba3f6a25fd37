/**
 * `readBodyText` in workerd: one strict UTF-8 decoder serves every request, so a refused body
 * must leave nothing behind for the next one (a non-streaming `decode` starts afresh each call),
 * and bodies with and without `Content-Length` are read and bounded alike.
 */
import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { readBodyText } from "./read-body.ts";

const MAX = 64;

function request(body: Uint8Array | ReadableStream<Uint8Array>, declared = true): Request {
  const headers = new Headers();
  if (declared && body instanceof Uint8Array) headers.set("content-length", String(body.byteLength));
  return new Request("https://producer.test/v1/events", {
    method: "POST",
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** A body without `Content-Length`: the bytes in two chunks. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const half = Math.floor(bytes.byteLength / 2);
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice(0, half));
      controller.enqueue(bytes.slice(half));
      controller.close();
    },
  });
}

async function refusal(work: Promise<unknown>): Promise<{ code: string; status: number }> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EdgebusError);
  return { code: (error as EdgebusError).code, status: (error as EdgebusError).status };
}

describe("readBodyText", () => {
  const valid = new TextEncoder().encode('{"name":"Siân Ó Briain","city":"Dún Laoghaire"}');
  // A two-byte sequence cut after its first byte, then a stray continuation byte.
  const invalid = Uint8Array.from([0x7b, 0x22, 0xc3, 0x22, 0x80, 0x7d]);

  it("decodes UTF-8 bodies, then refuses invalid UTF-8 (400), then decodes the next body intact", async () => {
    for (const declared of [true, false]) {
      const body = (bytes: Uint8Array) => (declared ? bytes : chunked(bytes));
      expect(await readBodyText(request(body(valid), declared), MAX, "an event")).toBe(
        '{"name":"Siân Ó Briain","city":"Dún Laoghaire"}',
      );
      expect(await refusal(readBodyText(request(body(invalid), declared), MAX, "an event"))).toEqual({
        code: "malformed_json",
        status: 400,
      });
      // The same body again: nothing of the refused one was left in the shared decoder.
      expect(await readBodyText(request(body(valid), declared), MAX, "an event")).toBe(
        '{"name":"Siân Ó Briain","city":"Dún Laoghaire"}',
      );
    }
  });

  it("refuses a body over the limit (413), by its Content-Length or while streaming", async () => {
    const large = new TextEncoder().encode("x".repeat(MAX + 1));
    expect(await refusal(readBodyText(request(large), MAX, "an event"))).toEqual({
      code: "payload_too_large",
      status: 413,
    });
    expect(await refusal(readBodyText(request(chunked(large), false), MAX, "an event"))).toEqual({
      code: "payload_too_large",
      status: 413,
    });
  });
});
