import { describe, expect, it } from "vitest";
import { blockedAddress, checkTargetUrl, parseIpv6 } from "./target-safety.ts";

const production = { allowPrivateTargets: false };
const development = { allowPrivateTargets: true };

/** Every literal way to write a loopback, private, link-local or metadata address in a URL host. */
const REFUSED_LITERALS: Record<string, string[]> = {
  "IPv4 dotted": [
    "127.0.0.1",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
  ],
  "IPv4 decimal (one number)": ["2130706433", "167772165", "2852039166", "0"],
  "IPv4 hex": ["0x7f000001", "0x7f.0x0.0x0.0x1", "0xa9.0xfe.0xa9.0xfe", "0xA9FEA9FE"],
  "IPv4 octal": ["0177.0.0.1", "017700000001", "0251.0376.0251.0376", "012.0.0.1"],
  "IPv4 short forms": ["127.1", "127.0.1", "10.1", "169.254.43518"],
  "IPv4 mixed radix": ["0x7f.0.0.01", "0177.0x0.0.1"],
  "IPv4 trailing dot": ["127.0.0.1."],
  "IPv6 loopback / unspecified": ["[::1]", "[0:0:0:0:0:0:0:1]", "[::]", "[0000::0001]"],
  "IPv6 IPv4-mapped": [
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[0:0:0:0:0:ffff:10.0.0.1]",
  ],
  "IPv6 IPv4-compatible": ["[::127.0.0.1]", "[::7f00:1]", "[::10.0.0.1]"],
  "IPv6 NAT64 / 6to4 / Teredo": [
    "[64:ff9b::127.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:7f00:1::]",
    "[2002:c0a8:101::1]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
  ],
  "IPv6 private / link-local / metadata": [
    "[fc00::1]",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "[febf::1]",
    "[fec0::1]",
    "[ff02::1]",
  ],
  "local names": [
    "localhost",
    "LOCALHOST",
    "localhost.",
    "api.localhost",
    "metadata.google.internal",
    "printer.local",
    "intranet",
    "db.internal",
  ],
};

describe("checkTargetUrl in production", () => {
  for (const [form, hosts] of Object.entries(REFUSED_LITERALS)) {
    it(`refuses ${form}`, () => {
      for (const host of hosts) {
        const verdict = checkTargetUrl(`https://${host}/hook`, production);
        expect(verdict.ok, `https://${host}/hook`).toBe(false);
      }
    });
  }

  it("refuses the same hosts with a port, a path and a query", () => {
    for (const host of ["2130706433", "[::ffff:127.0.0.1]", "0x7f.1"]) {
      expect(checkTargetUrl(`https://${host}:8443/a/b?c=d`, production).ok).toBe(false);
    }
  });

  it("names what was refused", () => {
    expect(checkTargetUrl("https://0x7f.1/", production)).toEqual({
      ok: false,
      reason: "points at a blocked address (loopback: 127.0.0.1)",
    });
    expect(checkTargetUrl("https://[::ffff:169.254.169.254]/", production)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("IPv4-mapped link-local / cloud metadata"),
    });
  });

  it("requires https and refuses credentials and other schemes", () => {
    expect(checkTargetUrl("http://hooks.example.gov/x", production)).toMatchObject({ ok: false });
    expect(checkTargetUrl("https://user:secret@hooks.example.gov/x", production)).toMatchObject({ ok: false });
    expect(checkTargetUrl("ftp://hooks.example.gov/x", production)).toMatchObject({ ok: false });
    expect(checkTargetUrl("file:///etc/passwd", production)).toMatchObject({ ok: false });
    expect(checkTargetUrl("not a url", production)).toMatchObject({ ok: false });
  });

  it("accepts public names and public addresses", () => {
    for (const url of [
      "https://hooks.example.gov/permits",
      "https://8.8.8.8/x",
      "https://[2606:4700:4700::1111]/x",
      "https://[::ffff:8.8.8.8]/x",
      "https://172.32.0.1/x",
      "https://100.128.0.1/x",
    ]) {
      expect(checkTargetUrl(url, production).ok, url).toBe(true);
    }
  });
});

describe("checkTargetUrl in development with private targets allowed", () => {
  it("allows http and loopback, still refuses credentials and other schemes", () => {
    expect(checkTargetUrl("http://127.0.0.1:9000/hook", development).ok).toBe(true);
    expect(checkTargetUrl("http://localhost:9000/hook", development).ok).toBe(true);
    expect(checkTargetUrl("http://a:b@127.0.0.1/", development).ok).toBe(false);
    expect(checkTargetUrl("gopher://127.0.0.1/", development).ok).toBe(false);
  });
});

describe("address parsing", () => {
  it("parses IPv6 with compression and an IPv4 tail", () => {
    expect(parseIpv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(parseIpv6("1::2::3")).toBeUndefined();
    expect(parseIpv6("example.gov")).toBeUndefined();
  });

  it("classifies resolver answers", () => {
    expect(blockedAddress("10.2.3.4")).toBe("private");
    expect(blockedAddress("fd12::1")).toBe("unique local (private)");
    expect(blockedAddress("93.184.216.34")).toBeUndefined();
  });
});
