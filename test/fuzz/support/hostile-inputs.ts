/**
 * Hostile request material for the fuzz suites, as fast-check arbitraries: injection strings,
 * numbers JSON can write but JavaScript cannot hold, deep nesting, truncation and byte-level
 * corruption (invalid UTF-8, encoded lone surrogates), odd content types and credentials, and a
 * way to put any of them into any field of a JSON document.
 *
 * Values JSON.stringify cannot produce (`1e400`, 10,000 levels of nesting) are placed as a
 * sentinel string and their text spliced into the serialised document (`serialiseHostile`). Web-standard only:
 * the producer suites run inside workerd.
 */
import fc from "fast-check";

/** Strings that broke some parser, query builder, header writer or template somewhere. */
export const INJECTION_STRINGS: readonly string[] = [
  // SQL
  "'; DROP TABLE permits.citizen_refs; --",
  "' OR '1'='1",
  '" OR 1=1 --',
  "1; SELECT pg_sleep(5)",
  "$$; COPY edgebus.dead_letters TO PROGRAM 'id'; $$",
  "\\'; TRUNCATE edgebus.event_archive; --",
  // NoSQL / JSON operators / prototype pollution
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  "__proto__",
  "constructor",
  '{"__proto__": {"admin": true}}',
  // Header / CRLF / response splitting
  "x\r\nSet-Cookie: session=stolen",
  "%0d%0aLocation:%20https://evil.example",
  "\r\n\r\nHTTP/1.1 200 OK\r\n",
  // Redis protocol
  "*1\r\n$8\r\nFLUSHALL\r\n",
  // HTML / script / template
  "<script>alert(document.cookie)</script>",
  '"><img src=x onerror=alert(1)>',
  "javascript:alert(1)",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  "${7*7}",
  "{{7*7}}",
  "#{7*7}",
  // Paths
  "../../../../etc/passwd",
  "..%2f..%2f..%2fetc%2fpasswd",
  "/v1/../../admin",
  "C:\\Windows\\System32\\config\\SAM",
  // Log forging
  '\n{"level":"error","msg":"forged log line","admin":true}',
  // NUL, control and odd Unicode
  "a\u0000b",
  "\u0000",
  "\u001b[31mred\u001b[0m",
  "\u202eevil\u202c",
  "\ufeffbom",
  "\ud800",
  "\udfff\ud800",
  "😀\u200d\u0301",
  "",
  " ",
];

export const injectionString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INJECTION_STRINGS) },
  fc.tuple(fc.constantFrom(...INJECTION_STRINGS), fc.constantFrom(...INJECTION_STRINGS)).map(([a, b]) => `${a}${b}`),
  fc.string({ unit: "binary", maxLength: 40 }),
);

/** Number literals valid in JSON text whose value a JS number cannot hold exactly (or at all). */
export const HOSTILE_NUMBER_LITERALS: readonly string[] = [
  "1e400",
  "-1e400",
  "1e-400",
  "-0",
  "-0.0",
  "18446744073709551616",
  "-18446744073709551617",
  "9007199254740993",
  "123456789012345678901234567890.5",
  "0.1e-999999",
  "4.9e-324",
];

/** Depth of the deep-nesting inputs (the issue asks for 10,000). */
export const DEEP_NESTING = 10_000;

export function deeplyNested(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

const SENTINEL = "@@edgebus-hostile-raw@@";

/**
 * A value to place into a JSON document: a JSON value, a raw number literal, 10,000 levels of
 * nesting or a 70 kB string. Big values are described, not held, so a failing case prints short.
 */
export type HostileValue =
  | { kind: "json"; value: unknown }
  | { kind: "number"; literal: string }
  | { kind: "nested"; shape: "array" | "object" }
  | { kind: "long string"; length: number };

export const hostileValue: fc.Arbitrary<HostileValue> = fc.oneof(
  { weight: 5, arbitrary: injectionString.map((value): HostileValue => ({ kind: "json", value })) },
  fc.constantFrom(...HOSTILE_NUMBER_LITERALS).map((literal): HostileValue => ({ kind: "number", literal })),
  fc.constantFrom<"array" | "object">("array", "object").map((shape): HostileValue => ({ kind: "nested", shape })),
  fc.constantFrom<HostileValue>(
    { kind: "json", value: { $gt: "" } },
    { kind: "json", value: { $ne: null } },
    { kind: "json", value: ["a", { b: null }] },
    { kind: "json", value: null },
    { kind: "json", value: true },
    { kind: "json", value: Number.MAX_SAFE_INTEGER },
    { kind: "json", value: -1 },
    { kind: "json", value: 0.5 },
    { kind: "long string", length: 70_000 },
  ),
);

/** The JSON text of a hostile value. */
export function hostileJson(value: HostileValue): string {
  switch (value.kind) {
    case "json":
      return JSON.stringify(value.value);
    case "number":
      return value.literal;
    case "nested":
      return deeplyNested(DEEP_NESTING, value.shape);
    case "long string":
      return JSON.stringify("x".repeat(value.length));
  }
}

/** Every path to a value in a JSON document (objects and arrays included, the root excluded). */
export function valuePaths(value: unknown, prefix: readonly (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...valuePaths(child, [...prefix, key])]);
}

/**
 * `document` with `path` set to `value` (`undefined` removes it), serialised; a raw value's text
 * replaces its sentinel, so the result may hold `1e400` or 10,000 nested brackets.
 */
export function serialiseHostile(
  document: unknown,
  path: readonly (string | number)[],
  value: HostileValue | undefined,
): string {
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = parent[key];
    if (typeof next !== "object" || next === null) return JSON.stringify(copy);
    parent = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (last === undefined) return JSON.stringify(copy);
  if (value === undefined) {
    delete parent[last];
    return JSON.stringify(copy);
  }
  parent[last] = SENTINEL;
  return JSON.stringify(copy).replace(JSON.stringify(SENTINEL), () => hostileJson(value));
}

/** A prefix of `text`: a request cut off anywhere. */
export function truncations(text: string): fc.Arbitrary<string> {
  return fc.nat({ max: Math.max(0, text.length - 1) }).map((end) => text.slice(0, end));
}

/** Byte sequences that are not UTF-8: stray continuation, overlong, CESU lone surrogates, > U+10FFFF. */
export const INVALID_UTF8_SEQUENCES: readonly (readonly number[])[] = [
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5],
  [0xfe],
  [0xff],
  [0xe2, 0x82],
  [0x00],
];

type ByteEdit =
  | { op: "insert"; at: number; bytes: readonly number[] }
  | { op: "replace"; at: number; byte: number }
  | { op: "delete"; at: number };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.constantFrom(...INVALID_UTF8_SEQUENCES),
  }),
  fc.record({ op: fc.constant("replace" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
);

/** `text`'s UTF-8 bytes with 1–4 edits: invalid sequences inserted, bytes replaced or dropped. */
export function corruptedBytes(text: string): fc.Arbitrary<Uint8Array<ArrayBuffer>> {
  const original = new TextEncoder().encode(text);
  return fc.array(byteEdit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let bytes = [...original];
    for (const edit of edits) {
      const at = bytes.length === 0 ? 0 : edit.at % (bytes.length + (edit.op === "insert" ? 1 : 0));
      if (edit.op === "insert") bytes = [...bytes.slice(0, at), ...edit.bytes, ...bytes.slice(at)];
      else if (edit.op === "replace" && at < bytes.length) bytes[at] = edit.byte;
      else if (edit.op === "delete") bytes.splice(at, 1);
    }
    return new Uint8Array(bytes);
  });
}

/** Content types a client might send: right, wrong, missing, with odd charsets and parameters. */
export function contentTypes(valid: readonly string[]): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constantFrom(...valid),
    fc
      .constantFrom(...valid)
      .chain((type) =>
        fc.constantFrom(
          `${type}; charset=utf-8`,
          `${type}; charset=UTF-8`,
          `${type};charset="utf-8"`,
          `${type}; charset=utf-16`,
          `${type}; charset=latin1`,
          `${type}; charset=`,
          `${type}; charset=utf-8; charset=latin1`,
          `${type};;;`,
          `  ${type.toUpperCase()}  `,
          `${type}; boundary=----x`,
          `${type}, text/html`,
        ),
      ),
    fc.constantFrom(
      undefined,
      "",
      "text/plain",
      "text/html; charset=utf-8",
      "application/xml",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=----x",
      "application/octet-stream",
      "application/json-patch+json",
      "application/*",
      "*/*",
      ";",
      "application/cloudevents",
      "application/cloudevents+xml",
      `application/${"x".repeat(5_000)}+json`,
    ),
    fc.stringMatching(/^[\x20-\x7e]{0,60}$/),
  );
}

/** A header value of `kib` KiB (100+ KiB headers are part of the hostile set). */
export function oversizeHeaderValue(kib: number): string {
  return "h".repeat(kib * 1024);
}

/** Authorization values that must not authenticate anyone (the right secret is never among them). */
export function wrongAuthorizations(scheme: "Bearer" | "Basic"): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constantFrom(
      undefined,
      "",
      scheme,
      `${scheme} `,
      `${scheme}    `,
      scheme === "Bearer" ? "Basic dXNlcjpwYXNz" : "Bearer not-a-basic-credential",
      `${scheme} ${"A".repeat(110 * 1024)}`,
      `${scheme} null`,
      `${scheme} undefined`,
      `${scheme} ' OR '1'='1`,
      `${scheme} ${btoa(":")}`,
      `${scheme} ${btoa("admin:")}`,
      `${scheme} ${btoa("admin:admin")}`,
      `${scheme} =====`,
      `${scheme} %00`,
    ),
    fc.stringMatching(/^[A-Za-z0-9+/=._-]{1,80}$/).map((token) => `${scheme} ${token}`),
    fc.stringMatching(/^[\x21-\x7e]{0,80}$/),
  );
}
