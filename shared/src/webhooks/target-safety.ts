/**
 * Whether a webhook subscription's URL may be called, judged on the URL alone: the producer checks
 * it when a subscription is saved, the webhooks Worker before every delivery (and it also
 * resolves the host: `workers/webhooks/src/dns-check.ts`). docs/webhooks.md#safety.
 *
 * Outside development: `https` only, no credentials, and no host that is a loopback, private,
 * shared, link-local/metadata, multicast, reserved or documentation address, or a local name.
 * Literals are judged after the WHATWG URL parser normalised them — what `fetch` connects to:
 * `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1` all become `127.0.0.1`; `[::ffff:127.0.0.1]`
 * becomes `[::ffff:7f00:1]`. IPv6 forms embedding IPv4 (mapped, compatible, NAT64, 6to4) are
 * judged by the embedded address; Teredo is refused whole.
 */

export type TargetVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Refused IPv4 ranges (CIDR, why). */
const BLOCKED_IPV4 = `0.0.0.0/8 this-network;10.0.0.0/8 private;100.64.0.0/10 shared (CGNAT);127.0.0.0/8 loopback;
169.254.0.0/16 link-local / cloud metadata;172.16.0.0/12 private;192.0.0.0/24 IETF protocol assignments;
192.0.2.0/24 documentation;192.88.99.0/24 6to4 relay anycast;192.168.0.0/16 private;198.18.0.0/15 benchmarking;
198.51.100.0/24 documentation;203.0.113.0/24 documentation;224.0.0.0/3 multicast / reserved`
  .split(";")
  .map((entry) => {
    const [cidr = "", ...why] = entry.trim().split(" ");
    const [base = "", bits = "32"] = cidr.split("/");
    return [parseDottedIpv4(base) ?? 0, Number(bits), why.join(" ")] as const;
  });

const LOCAL_NAME =
  /(^|\.)(localhost|local|internal|localdomain|home\.arpa|in-addr\.arpa|ip6\.arpa)$|^(metadata|instance-data|kubernetes)$/;

/** Dotted-decimal IPv4 (the parser's output form) → its 32-bit number. */
export function parseDottedIpv4(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function blockedIpv4(address: number): string | undefined {
  return BLOCKED_IPV4.find(([base, bits]) => address >= base && address < base + 2 ** (32 - bits))?.[2];
}

/** IPv6 text (brackets and zone allowed, IPv4 tail allowed) → eight 16-bit groups. */
export function parseIpv6(text: string): number[] | undefined {
  let host = (text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text).split("%")[0] ?? "";
  if (!/^[0-9a-f:.]+$/i.test(host) || !host.includes(":")) return undefined;
  const tail = host.slice(host.lastIndexOf(":") + 1);
  if (tail.includes(".")) {
    const v4 = parseDottedIpv4(tail);
    if (v4 === undefined) return undefined;
    host = `${host.slice(0, host.lastIndexOf(":") + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = host.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const [head, rest] = [groups(halves[0]), groups(halves[1])];
  const count = head.length + rest.length;
  if (halves.length > 2 || ![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const hex = (g: string) => Number.parseInt(g, 16);
  return [...head.map(hex), ...new Array<number>(8 - count).fill(0), ...rest.map(hex)];
}

export function blockedIpv6(groups: readonly number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const low = g6 * 65536 + g7;
  const embedded = (kind: string, v4: number) => {
    const reason = blockedIpv4(v4);
    return reason === undefined ? undefined : `${kind} ${reason}`;
  };
  const zeroTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroTo(6)) return low === 0 ? "unspecified" : low === 1 ? "loopback" : (blockedIpv4(low) ?? "IPv4-compatible");
  if (zeroTo(5) && g5 === 0xffff) return embedded("IPv4-mapped", low);
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return "IPv4-translated";
  if (g0 === 0x64 && g1 === 0xff9b) return g2 === 1 ? "NAT64 local-use" : embedded("NAT64", low);
  if (g0 === 0x2002) return embedded("6to4", g1 * 65536 + g2);
  if (g0 === 0x2001 && g1 === 0) return "Teredo (embeds an obfuscated IPv4 address)";
  if (g0 === 0x2001 && g1 === 0xdb8) return "documentation";
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "discard-only";
  if ((g0 & 0xfe00) === 0xfc00) return "unique local (private)";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "site-local";
  return (g0 & 0xff00) === 0xff00 ? "multicast" : undefined;
}

/** Why an address literal (IPv4 dotted or IPv6) is refused; undefined when public or not an address. */
export function blockedAddress(address: string): string | undefined {
  const v4 = parseDottedIpv4(address);
  if (v4 !== undefined) return blockedIpv4(v4);
  const v6 = parseIpv6(address);
  return v6 === undefined ? undefined : blockedIpv6(v6);
}

/** The URL when `text` may be a webhook target (`allowPrivateTargets`: development only), else why not. */
export function checkTargetUrl(text: string, policy: { readonly allowPrivateTargets: boolean }): TargetVerdict {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "must be an http(s) URL" };
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "must not carry credentials (user:password@); authenticate with the signature" };
  }
  if (policy.allowPrivateTargets) return { ok: true, url };
  if (url.protocol !== "https:") return { ok: false, reason: "must be https:// outside development" };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const reason = blockedAddress(host);
  if (reason !== undefined) return { ok: false, reason: `points at a blocked address (${reason}: ${host})` };
  if (parseDottedIpv4(host) !== undefined || parseIpv6(host) !== undefined) return { ok: true, url };
  if (/^[0-9.]+$|^0x/i.test(host)) return { ok: false, reason: `host ${host} is not a usable address` };
  if (LOCAL_NAME.test(host)) return { ok: false, reason: `host ${host} names a local or internal service` };
  if (!host.includes(".")) return { ok: false, reason: `host ${host} is a single label (a local name)` };
  return { ok: true, url };
}
