import { describe, expect, it } from "vitest";
import { resolveAndCheckHost } from "./dns-check.ts";

describe("resolveAndCheckHost (DNS-over-HTTPS)", () => {
  const resolver = (answers: Record<string, string[]>) =>
    (async (input: RequestInfo | URL) => {
      const url = new URL(String(input));
      const type = url.searchParams.get("type") === "A" ? 1 : 28;
      const data = answers[`${url.searchParams.get("name")}/${url.searchParams.get("type")}`] ?? [];
      return Response.json({ Status: 0, Answer: data.map((value) => ({ type, data: value })) });
    }) as typeof fetch;

  it("refuses a name with any private address among its answers", async () => {
    const verdict = await resolveAndCheckHost(
      "rebind.example.gov",
      "https://dns.example/dns-query",
      resolver({ "rebind.example.gov/A": ["93.184.216.34", "127.0.0.1"] }),
    );
    expect(verdict).toMatchObject({ ok: false, temporary: false });
  });

  it("refuses a name whose AAAA answer is private", async () => {
    const verdict = await resolveAndCheckHost(
      "v6.example.gov",
      "https://dns.example/dns-query",
      resolver({ "v6.example.gov/A": ["93.184.216.34"], "v6.example.gov/AAAA": ["fe80::1"] }),
    );
    expect(verdict).toMatchObject({ ok: false, temporary: false });
  });

  it("accepts public answers; a name without answers is a temporary refusal", async () => {
    const fetcher = resolver({ "ok.example.gov/A": ["93.184.216.34"], "ok.example.gov/AAAA": ["2606:2800:220:1::1"] });
    expect(await resolveAndCheckHost("ok.example.gov", "https://dns.example/dns-query", fetcher)).toEqual({
      ok: true,
      addresses: ["93.184.216.34", "2606:2800:220:1::1"],
    });
    expect(await resolveAndCheckHost("none.example.gov", "https://dns.example/dns-query", fetcher)).toMatchObject({
      ok: false,
      temporary: true,
    });
  });
});
