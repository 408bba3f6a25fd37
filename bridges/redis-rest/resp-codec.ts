import type { RedisArg } from "./command-body.ts";

/**
 * A reply as Redis sends it over RESP2, read the way the gateway needs it: bulk and status strings
 * as bytes (binary-safe, as ioredis's `callBuffer` gave them), integers as numbers, nil as `null`,
 * arrays element by element, and an error Redis sent as a `RedisReplyError` (at the top level or
 * inside an array, where a Lua script can put one).
 */
export type RespReply = Buffer | number | null | RedisReplyError | RespReply[];

/** An error reply (`-ERR …`, `-NOSCRIPT …`): a command's answer, not a transport failure. */
export class RedisReplyError extends Error {
  override readonly name = "ReplyError";
}

/** A reply stream that is not RESP2: the connection is reset, since nothing after it can be paired. */
export class RespProtocolError extends Error {
  override readonly name = "RespProtocolError";
}

/** Redis's own ceiling on one bulk string (`proto-max-bulk-len`, 512 MB by default). */
export const MAX_BULK_BYTES = 512 * 1024 * 1024;
/** Elements of one array reply; Redis sends at most 2^32 − 1. */
const MAX_ARRAY_LENGTH = 2 ** 32 - 1;
/** Longest header line (type byte, length or integer, status text) held while it is incomplete. */
const MAX_LINE_BYTES = 64 * 1024;

/** What `#element` returns while an element's header line has not fully arrived. */
const INCOMPLETE_LINE = -1;
const CR = 13;
const LF = 10;

/**
 * RESP2 for a list of commands, ready for one socket write: `*<n>\r\n$<len>\r\n<arg>\r\n…` per
 * command, in order. Commands of text arguments only come out as one string (the socket converts
 * it once, in native code); any `Buffer` argument makes the whole write bytes.
 */
export function encodeCommands(commands: readonly (readonly RedisArg[])[]): string | Buffer {
  let text = "";
  for (let c = 0; c < commands.length; c++) {
    const command = commands[c] as readonly RedisArg[];
    let encoded = `*${command.length}\r\n`;
    for (let a = 0; a < command.length; a++) {
      const arg = command[a] as RedisArg;
      if (typeof arg !== "string") return encodeWithBytes(commands);
      encoded += `$${Buffer.byteLength(arg, "utf8")}\r\n${arg}\r\n`;
    }
    text += encoded;
  }
  return text;
}

function encodeWithBytes(commands: readonly (readonly RedisArg[])[]): Buffer {
  const parts: Buffer[] = [];
  let text = "";
  for (const command of commands) {
    text += `*${command.length}\r\n`;
    for (const arg of command) {
      if (typeof arg === "string") {
        text += `$${Buffer.byteLength(arg, "utf8")}\r\n${arg}\r\n`;
        continue;
      }
      parts.push(Buffer.from(`${text}$${arg.length}\r\n`, "utf8"), arg);
      text = "\r\n";
    }
  }
  parts.push(Buffer.from(text, "utf8"));
  return Buffer.concat(parts);
}

/** An array reply still being filled, innermost last. */
interface OpenArray {
  readonly items: RespReply[];
  readonly length: number;
}

/**
 * Reads RESP2 replies from the chunks a socket delivers, in order, and hands each complete
 * top-level reply to `onReply`.
 *
 * Guarantees:
 * - a reply may be split across chunks anywhere; an array is filled element by element and
 *   resumed where it stopped, so a reply of many elements arriving in many chunks is read once,
 *   not again from its start for every chunk;
 * - a bulk string still arriving is not copied chunk by chunk: the chunks are kept until it is
 *   whole and joined once;
 * - memory is bounded by what Redis declares: a bulk string over `MAX_BULK_BYTES`, an array
 *   length out of range, a header line over 64 KB or an unknown type byte throws
 *   `RespProtocolError` (the connection must then be dropped; the parser is left unusable).
 */
export class RespParser {
  readonly #onReply: (reply: RespReply) => void;
  /** Unread bytes of the last chunk, from the start of an element that was incomplete. */
  #rest: Buffer | undefined;
  /** Chunks held while a long bulk string arrives, and how many bytes must be held to finish it. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  #needed = 0;
  readonly #open: OpenArray[] = [];

  constructor(onReply: (reply: RespReply) => void) {
    this.#onReply = onReply;
  }

  /** True while part of a reply has been read and the rest has not. */
  get midReply(): boolean {
    return this.#rest !== undefined || this.#held.length > 0 || this.#open.length > 0;
  }

  feed(chunk: Buffer): void {
    let data = chunk;
    if (this.#held.length > 0) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes < this.#needed) return;
      data = Buffer.concat(this.#held, this.#heldBytes);
      this.#held = [];
      this.#heldBytes = 0;
    } else if (this.#rest !== undefined) {
      data = Buffer.concat([this.#rest, chunk]);
    }
    this.#rest = undefined;
    let offset = 0;
    while (offset < data.length) {
      const next = this.#element(data, offset);
      if (next < 0) {
        this.#keep(data, offset, next === INCOMPLETE_LINE ? 0 : -next);
        return;
      }
      offset = next;
    }
  }

  /**
   * Keeps `data` from `offset` until `needed` bytes from there are in hand (0: unknown, wait for
   * the next chunk).
   */
  #keep(data: Buffer, offset: number, needed: number): void {
    const rest = data.subarray(offset);
    if (needed > rest.length && needed > 64 * 1024) {
      this.#held = [rest];
      this.#heldBytes = rest.length;
      this.#needed = needed;
      return;
    }
    if (needed === 0 && rest.length > MAX_LINE_BYTES) {
      throw new RespProtocolError(`a RESP header line longer than ${MAX_LINE_BYTES} bytes`);
    }
    this.#rest = rest;
  }

  /**
   * Reads one element at `offset` (a whole scalar, or an array's header) and returns the offset
   * after it; a negative value when incomplete: minus the bytes needed from `offset` to finish it,
   * or `INCOMPLETE_LINE` while the header line itself is incomplete (the size is not known yet).
   */
  #element(data: Buffer, offset: number): number {
    const lineEnd = data.indexOf(CR, offset + 1);
    if (lineEnd < 0 || lineEnd + 1 >= data.length) return INCOMPLETE_LINE;
    if (data[lineEnd + 1] !== LF) throw new RespProtocolError("a RESP line not ended by CRLF");
    const type = data[offset];
    const after = lineEnd + 2;
    switch (type) {
      case 0x2b: // + status
        this.#complete(data.subarray(offset + 1, lineEnd));
        return after;
      case 0x2d: // - error
        this.#complete(new RedisReplyError(data.toString("utf8", offset + 1, lineEnd)));
        return after;
      case 0x3a: // : integer
        this.#complete(integerAt(data, offset + 1, lineEnd));
        return after;
      case 0x24: // $ bulk string
      case 0x2a: {
        // * array
        const length = integerAt(data, offset + 1, lineEnd);
        if (length === -1) {
          this.#complete(null);
          return after;
        }
        return type === 0x24 ? this.#bulk(data, offset, after, length) : this.#array(after, length);
      }
      default:
        throw new RespProtocolError(`an unknown RESP type byte 0x${(type ?? 0).toString(16)}`);
    }
  }

  /** A bulk string of `length` bytes starting at `start` (its header began at `offset`). */
  #bulk(data: Buffer, offset: number, start: number, length: number): number {
    if (length < 0 || length > MAX_BULK_BYTES) throw new RespProtocolError(`a RESP bulk length of ${length}`);
    const end = start + length;
    if (end + 2 > data.length) return -(end + 2 - offset);
    if (data[end] !== CR || data[end + 1] !== LF) throw new RespProtocolError("a RESP bulk string not ended by CRLF");
    this.#complete(data.subarray(start, end));
    return end + 2;
  }

  /** An array of `length` elements: empty at once, otherwise open until its elements are read. */
  #array(after: number, length: number): number {
    if (length < 0 || length > MAX_ARRAY_LENGTH) throw new RespProtocolError(`a RESP array length of ${length}`);
    if (length === 0) this.#complete([]);
    else this.#open.push({ items: [], length });
    return after;
  }

  /** A finished value: into the innermost open array, closing every array it fills; else out. */
  #complete(value: RespReply): void {
    let finished = value;
    for (;;) {
      const open = this.#open[this.#open.length - 1];
      if (open === undefined) {
        this.#onReply(finished);
        return;
      }
      open.items.push(finished);
      if (open.items.length < open.length) return;
      this.#open.pop();
      finished = open.items;
    }
  }
}

/**
 * The decimal integer between `start` and `end` (an optional minus sign, then digits), as a
 * number: past 2^53 it is the nearest double, as ioredis gave it and as JSON carries it.
 */
function integerAt(data: Buffer, start: number, end: number): number {
  if (end - start > 15) {
    const text = data.toString("latin1", start, end);
    if (!/^-?\d+$/.test(text)) throw new RespProtocolError("a RESP integer with a non-digit");
    return Number(text);
  }
  let index = start;
  let negative = false;
  if (data[index] === 0x2d) {
    negative = true;
    index++;
  }
  if (index >= end) throw new RespProtocolError("a RESP integer with no digits");
  let value = 0;
  for (; index < end; index++) {
    const digit = (data[index] as number) - 0x30;
    if (digit < 0 || digit > 9) throw new RespProtocolError("a RESP integer with a non-digit");
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}
