import { EdgebusError } from "#shared/errors.ts";

/** Rejection every adapter gives for `publish` after `close()` (a caller bug, never retryable). */
export function publisherClosedError(adapter: string): EdgebusError {
  return new EdgebusError("internal", `${adapter} publisher is closed`, { retryable: false });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: every ASCII code unit, control characters included
const ASCII = /^[\u0000-\u007f]*$/;

/** UTF-8 size of a string, which is what brokers count against their limits. */
export function utf8Bytes(text: string): number {
  // ASCII text (most events) is one byte per code unit; the regex engine checks that faster than
  // the loop below counts.
  if (ASCII.test(text)) return text.length;
  // Counted from the UTF-16 code units, without encoding (it runs for every message sent): a
  // surrogate pair is 4 bytes, a lone surrogate 3 (TextEncoder writes U+FFFD for it).
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Splits `items` into consecutive chunks of at most `maxCount` items and at most `maxBytes`
 * (by `sizeOf`), keeping order. The caller must reject items larger than `maxBytes` first.
 */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T, index: number) => number,
  limits: { maxCount: number; maxBytes: number },
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as T;
    const size = sizeOf(item, index);
    if (current.length > 0 && (current.length >= limits.maxCount || currentBytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
