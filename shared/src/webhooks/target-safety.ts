/**
 * Whether a webhook subscription's URL may be called: the producer checks it when a subscription
 * is created or changed, the webhooks Worker again before every delivery (docs/webhooks.md#safety).
 *
 * Outside development a target must be `https://`, carry no credentials, and its host must not be
 * a loopback, private, shared (CGNAT), link-local, cloud-metadata, multicast, reserved or
 * documentation address, nor a name that means one (`localhost`, `*.internal`, single labels). IP
 * literals are judged after the WHATWG URL parser has normalised them, which is also what `fetch`
 * connects to: `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` all become `127.0.0.1`, and
 * `[::ffff:127.0.0.1]` becomes `[::ffff:7f00:1]`. IPv6 forms that embed an IPv4 address
 * (mapped, compatible, NAT64, 6to4) are judged by the embedded address; Teredo is refused whole.
 * Host names are resolved over DNS-over-HTTPS where the caller passes a resolver, and every
 * address of the answer must pass.
 *
 * Development may allow any http(s) target through an explicit setting (a local receiver).
 */

export interface TargetPolicy {
  /** Development only: allow `http://` and private, loopback and local hosts. */
  readonly allowPrivateTargets: boolean;
}

export type TargetVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const BLOCKED_IPV4: ReadonlyArray<readonly [number, number, string]> = [
  [0x00000000, 8, "this-network"],
  [0x0a000000, 8, "private"],
  [0x64400000, 10, "shared (CGNAT)"],
  [0x7f000000, 8, "loopback"],
  [0xa9fe0000, 16, "link-local / cloud metadata"],
  [0xac100000, 12, "private"],
  [0xc0000000, 24, "IETF protocol assignments"],
  [0xc0000200, 24, "documentation"],
  [0xc0586300, 24, "6to4 relay anycast"],
  [0xc0a80000, 16, "private"],
  [0xc6120000, 15, "benchmarking"],
  [0xc6336400, 24, "documentation"],
  [0xcb007100, 24, "documentation"],
  [0xe0000000, 4, "multicast"],
  [0xf0000000, 4, "reserved / broadcast"],
];

/** Names that mean this machine or a cloud's metadata service, and private suffixes. */
const BLOCKED_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data", "kubernetes"]);
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".localdomain",
  ".home.arpa",
  ".in-addr.arpa",
  ".ip6.arpa",
];

/** `a.b.c.d` with four decimal parts 0–255 (the WHATWG parser's output form) → the 32-bit number. */
export function parseDottedIpv4(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) {
    return undefined;
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** Why an IPv4 address (as a 32-bit number) is refused, or undefined when it is public. */
export function blockedIpv4(address: number): string | undefined {
  for (const [base, bits, reason] of BLOCKED_IPV4) {
    const size = 2 ** (32 - bits);
    if (address >= base && address < base + size) return reason;
  }
  return undefined;
}

/** `::1`, `[fe80::1]`, `::ffff:1.2.3.4`… → eight 16-bit groups, or undefined when not IPv6. */
export function parseIpv6(text: string): number[] | undefined {
  let host = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  host = host.split("%")[0] ?? host;
  if (!/^[0-9a-f:.]+$/i.test(host) || !host.includes(":")) return undefined;
  const lastColon = host.lastIndexOf(":");
  const last = host.slice(lastColon + 1);
  if (last.includes(".")) {
    // A trailing dotted IPv4 part is the last two groups.
    const v4 = parseDottedIpv4(last);
    if (v4 === undefined) return undefined;
    host = `${host.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0] ?? "");
  const rest = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const explicit = head.length + rest.length;
  if (halves.length === 1 && explicit !== 8) return undefined;
  if (halves.length === 2 && explicit > 7) return undefined;
  const zeros = new Array<number>(8 - explicit).fill(0);
  return [...head.map((g) => Number.parseInt(g, 16)), ...zeros, ...rest.map((g) => Number.parseInt(g, 16))];
}

/** Why an IPv6 address is refused, or undefined when it is public. */
export function blockedIpv6(groups: readonly number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embedded = g6 * 65536 + g7;
  const firstSix = [g0, g1, g2, g3, g4, g5];
  if (firstSix.every((g) => g === 0)) {
    if (embedded === 0) return "unspecified";
    if (embedded === 1) return "loopback";
    return blockedIpv4(embedded) ?? "IPv4-compatible (deprecated)";
  }
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return blockedIpv4(embedded) === undefined ? undefined : `IPv4-mapped ${blockedIpv4(embedded)}`;
  }
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return "IPv4-translated";
  if (g0 === 0x64 && g1 === 0xff9b) {
    const reason = blockedIpv4(embedded);
    if (g2 === 1) return "NAT64 local-use";
    return reason === undefined ? undefined : `NAT64 ${reason}`;
  }
  if (g0 === 0x2002) {
    const reason = blockedIpv4(g1 * 65536 + g2);
    return reason === undefined ? undefined : `6to4 ${reason}`;
  }
  if (g0 === 0x2001 && g1 === 0) return "Teredo (embeds an obfuscated IPv4 address)";
  if (g0 === 0x2001 && g1 === 0xdb8) return "documentation";
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "discard-only";
  if ((g0 & 0xfe00) === 0xfc00) return "unique local (private)";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "site-local (deprecated)";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  return undefined;
}

/** Why an address literal (IPv4 dotted or IPv6, bracketed or not) is refused; undefined when public or not an address. */
export function blockedAddress(address: string): string | undefined {
  const v4 = parseDottedIpv4(address);
  if (v4 !== undefined) return blockedIpv4(v4);
  const v6 = parseIpv6(address);
  return v6 === undefined ? undefined : blockedIpv6(v6);
}

/**
 * The URL if `text` may be a webhook target under `policy`, judged on the URL alone (no DNS);
 * otherwise why not. Checked when a subscription is saved and before each delivery.
 */
export function checkTargetUrl(text: string, policy: TargetPolicy): TargetVerdict {
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
  const addressReason = blockedAddress(host);
  if (addressReason !== undefined)
    return { ok: false, reason: `points at a blocked address (${addressReason}: ${host})` };
  if (parseDottedIpv4(host) !== undefined || parseIpv6(host) !== undefined) return { ok: true, url };
  // Anything numeric the parser did not turn into dotted IPv4 (it always does for valid forms).
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return { ok: false, reason: `host ${host} is not a usable address` };
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return { ok: false, reason: `host ${host} names a local or internal service` };
  }
  if (!host.includes(".")) return { ok: false, reason: `host ${host} is a single label (a local name)` };
  return { ok: true, url };
}

/** Answers of a DNS-over-HTTPS JSON resolver (`application/dns-json`). */
interface DnsJsonAnswer {
  Status?: number;
  Answer?: { type?: number; data?: string }[];
}

export type ResolveVerdict = { ok: true; addresses: string[] } | { ok: false; reason: string; temporary: boolean };

/**
 * Resolves `host`'s A and AAAA records over DNS-over-HTTPS (`resolverUrl`, e.g.
 * `https://cloudflare-dns.com/dns-query`) and refuses when any address is blocked. A name that
 * does not resolve is refused as temporary (it may exist later); a resolver failure likewise.
 */
export async function resolveAndCheckHost(
  host: string,
  resolverUrl: string,
  fetcher: typeof fetch = fetch,
  timeoutMs = 5000,
): Promise<ResolveVerdict> {
  const name = host.replace(/\.$/, "");
  if (parseDottedIpv4(name) !== undefined || parseIpv6(name) !== undefined) {
    const reason = blockedAddress(name);
    return reason === undefined ? { ok: true, addresses: [name] } : { ok: false, reason, temporary: false };
  }
  const addresses: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const query = new URL(resolverUrl);
    query.searchParams.set("name", name);
    query.searchParams.set("type", type);
    let answer: DnsJsonAnswer;
    try {
      const response = await fetcher(query, {
        headers: { accept: "application/dns-json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) return { ok: false, reason: `DNS resolver answered ${response.status}`, temporary: true };
      answer = (await response.json()) as DnsJsonAnswer;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `DNS resolution failed: ${message}`, temporary: true };
    }
    for (const record of answer.Answer ?? []) {
      if ((record.type === 1 || record.type === 28) && typeof record.data === "string") addresses.push(record.data);
    }
  }
  if (addresses.length === 0) return { ok: false, reason: `${name} does not resolve`, temporary: true };
  for (const address of addresses) {
    const reason = blockedAddress(address);
    if (reason !== undefined) {
      return { ok: false, reason: `${name} resolves to a ${reason} address (${address})`, temporary: false };
    }
  }
  return { ok: true, addresses };
}
