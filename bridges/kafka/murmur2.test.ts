import { murmur2 as libraryMurmur2 } from "@platformatic/kafka";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { murmur2 } from "./murmur2.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("murmur2", () => {
  it("gives the values Kafka's own test suite pins for its Java implementation", () => {
    // UtilsTest.testMurmur2 in Apache Kafka.
    expect(murmur2(bytes("21"))).toBe(-973932308);
    expect(murmur2(bytes("foobar"))).toBe(-790332482);
    expect(murmur2(bytes("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(bytes("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(bytes("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107);
  });

  it("agrees with the Kafka client library's version for any bytes, every tail length included", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        expect(murmur2(data)).toBe(libraryMurmur2(Buffer.from(data)) | 0);
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads only the bytes of its view, not the rest of the buffer behind it", () => {
    const backing = bytes("xxfoobarxx");
    expect(murmur2(backing.subarray(2, 8))).toBe(murmur2(bytes("foobar")));
  });
});
