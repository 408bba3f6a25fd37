/**
 * The host check a URL alone cannot give: resolve a target's name (A and AAAA) over
 * DNS-over-HTTPS (`WEBHOOK_DNS_RESOLVER_URL`, JSON API) before a delivery, and refuse it when any
 * address is one `#shared/webhooks/target-safety.ts` refuses. Workers have no resolver API of
 * their own, hence DoH. A name that does not resolve, or a resolver that fails, is a temporary
 * refusal (the attempt is retried).
 */
import { blockedAddress, parseDottedIpv4, parseIpv6 } from "#shared/webhooks/target-safety.ts";

export type ResolveVerdict = { ok: true; addresses: string[] } | { ok: false; reason: string; temporary: boolean };

interface DnsJsonAnswer {
  Answer?: { type?: number; data?: string }[];
}

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
      return { ok: false, reason: `${name} resolves to a blocked address (${reason}: ${address})`, temporary: false };
    }
  }
  return { ok: true, addresses };
}
