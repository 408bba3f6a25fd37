import { describe, expect, it } from "vitest";
import {
  encodeCommands,
  MAX_BULK_BYTES,
  RedisReplyError,
  RespParser,
  RespProtocolError,
  type RespReply,
} from "./resp-codec.ts";

/** Every reply `bytes` holds, fed in chunks of `size` bytes (all at once by default). */
function parseAll(bytes: Buffer, size = bytes.length): RespReply[] {
  const replies: RespReply[] = [];
  const parser = new RespParser((reply) => replies.push(reply));
  for (let offset = 0; offset < bytes.length; offset += size) parser.feed(bytes.subarray(offset, offset + size));
  expect(parser.midReply).toBe(false);
  return replies;
}

/** Replies with bytes as text, errors as `{error}`, for readable expectations. */
function plain(reply: RespReply): unknown {
  if (reply instanceof Uint8Array)
    return Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength).toString("utf8");
  if (reply instanceof RedisReplyError) return { error: reply.message };
  if (Array.isArray(reply)) return reply.map(plain);
  return reply;
}

describe("encodeCommands", () => {
  it("writes text commands as one RESP2 string, lengths in UTF-8 bytes", () => {
    expect(
      encodeCommands([
        ["SET", "k", "é"],
        ["GET", "k"],
      ]),
    ).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  });

  it("writes bytes as they are once any argument is a Buffer", () => {
    const value = Buffer.from([0x00, 0xff, 0x0d, 0x0a]);
    const encoded = encodeCommands([["GET", "a"], ["SET", "k", value, "EX", "10"], ["PING"]]);
    expect(Buffer.isBuffer(encoded)).toBe(true);
    expect(encoded).toEqual(
      Buffer.concat([
        Buffer.from("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n"),
        value,
        Buffer.from("\r\n$2\r\nEX\r\n$2\r\n10\r\n*1\r\n$4\r\nPING\r\n"),
      ]),
    );
  });

  it("encodes what the parser reads back as the same arguments", () => {
    // A command is an array of bulk strings: the request encoding is also a valid reply stream.
    const commands = [
      ["SET", "ключ", Buffer.from([1, 2, 3])],
      ["MGET", "a", "", "b"],
    ];
    const [first, second] = parseAll(Buffer.from(encodeCommands(commands)));
    expect(first).toEqual([Buffer.from("SET"), Buffer.from("ключ"), Buffer.from([1, 2, 3])]);
    expect(plain(second as RespReply)).toEqual(["MGET", "a", "", "b"]);
  });
});

describe("RespParser", () => {
  const stream = Buffer.from(
    [
      "+OK\r\n",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
      ":42\r\n",
      ":-7\r\n",
      ":9223372036854775807\r\n",
      "$5\r\nhello\r\n",
      "$0\r\n\r\n",
      "$-1\r\n",
      "*-1\r\n",
      "*0\r\n",
      "*3\r\n$1\r\na\r\n*2\r\n:1\r\n-ERR inside\r\n$-1\r\n",
      "$4\r\na\r\nb\r\n",
    ].join(""),
  );
  const expected = [
    "OK",
    { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    42,
    -7,
    2 ** 63, // 9223372036854775807 as the nearest double, as JSON carries it
    "hello",
    "",
    null,
    null,
    [],
    ["a", [1, { error: "ERR inside" }], null],
    "a\r\nb",
  ];

  it("reads every RESP2 type, nested arrays and errors inside arrays included", () => {
    expect(parseAll(stream).map(plain)).toEqual(expected);
  });

  it("reads the same replies whatever the chunk size, down to one byte", () => {
    for (const size of [1, 2, 3, 5, 7, 16, 64]) expect(parseAll(stream, size).map(plain)).toEqual(expected);
  });

  it("reads the same replies when the stream is cut at any single point", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const replies: RespReply[] = [];
      const parser = new RespParser((reply) => replies.push(reply));
      parser.feed(stream.subarray(0, cut));
      parser.feed(stream.subarray(cut));
      expect(replies.map(plain)).toEqual(expected);
    }
  });

  it("gives error replies as RedisReplyError, named as ioredis names them", () => {
    const [reply] = parseAll(Buffer.from("-NOSCRIPT No matching script\r\n"));
    expect(reply).toBeInstanceOf(RedisReplyError);
    expect(reply).toMatchObject({ name: "ReplyError", message: "NOSCRIPT No matching script" });
  });

  it("joins a long bulk string once it is whole, byte for byte", () => {
    const value = Buffer.alloc(3 * 1024 * 1024 + 17, 0);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
    const bytes = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from("\r\n:1\r\n")]);
    const replies = parseAll(bytes, 64 * 1024 - 3);
    expect(replies).toHaveLength(2);
    expect((replies[0] as Buffer).equals(value)).toBe(true);
    expect(replies[1]).toBe(1);
  });

  it("fills a long array element by element across chunks", () => {
    const count = 20_000;
    const bytes = Buffer.from(
      `*${count}\r\n${Array.from({ length: count }, (_, i) => `$${String(i).length}\r\n${i}\r\n`).join("")}`,
    );
    const [reply] = parseAll(bytes, 1000);
    expect(reply).toHaveLength(count);
    expect(plain((reply as RespReply[])[12_345] as RespReply)).toBe("12345");
  });

  it("refuses what is not RESP2 instead of holding or guessing", () => {
    const refuse = (text: string) => expect(() => parseAll(Buffer.from(text))).toThrow(RespProtocolError);
    refuse("?what\r\n");
    refuse(`$${MAX_BULK_BYTES + 1}\r\n`);
    refuse("$-2\r\n");
    refuse("*-5\r\n");
    refuse(":12a\r\n");
    refuse("$3\r\nabcde\r\n");
    refuse("+OK\rX");
    const parser = new RespParser(() => undefined);
    expect(() => parser.feed(Buffer.alloc(70 * 1024, 0x2b))).toThrow(/header line longer/);
  });
});
