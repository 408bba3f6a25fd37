/**
 * The console's pages served by the producer itself (no Workers static assets): each file with its
 * content type, security headers and ETag; revalidation (304); HEAD; the redirects to `/console/`;
 * 405 for other methods and 404 for files that do not exist; and the pages load even when the
 * producer's bindings are missing (they answer before the configuration is read).
 */
import { describe, expect, it } from "vitest";
import { createProducerApp } from "../app.ts";
import { mintKey, testEnv } from "../producer-test-harness.ts";
import { CONSOLE_PAGES } from "./console-pages.generated.ts";
import { CONSOLE_PAGE_HEADERS } from "./console-pages.ts";

const ORIGIN = "http://console.test";
const env = testEnv([await mintKey()]);

function get(path: string, init: RequestInit = {}, bindings: Record<string, unknown> = env) {
  return createProducerApp().request(`${ORIGIN}${path}`, init, bindings);
}

describe("console pages", () => {
  it.each([
    ["/console/", "index.html", "text/html; charset=utf-8"],
    ["/console/app.js", "app.js", "text/javascript; charset=utf-8"],
    ["/console/style.css", "style.css", "text/css; charset=utf-8"],
  ])("serves %s with its content type, security headers and ETag", async (path, file, contentType) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(contentType);
    for (const [name, value] of Object.entries(CONSOLE_PAGE_HEADERS)) expect(response.headers.get(name)).toBe(value);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("etag")).toBe(CONSOLE_PAGES[file]?.etag);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(await response.text()).toBe(CONSOLE_PAGES[file]?.body);
  });

  it("the index loads the script and the style from this origin", async () => {
    const html = await (await get("/console/")).text();
    expect(html).toContain('src="/console/app.js"');
    expect(html).toContain('href="/console/style.css"');
  });

  it("answers 304 with no body while the browser's copy is current, 200 once it is not", async () => {
    const etag = (await get("/console/app.js")).headers.get("etag") as string;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const revalidated = await get("/console/app.js", { headers: { "If-None-Match": ifNoneMatch } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers.get("etag")).toBe(etag);
      expect(revalidated.headers.get("content-security-policy")).toBe(CONSOLE_PAGE_HEADERS["Content-Security-Policy"]);
      expect(await revalidated.text()).toBe("");
    }
    const stale = await get("/console/app.js", { headers: { "If-None-Match": '"an-older-version"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(CONSOLE_PAGES["app.js"]?.body);
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await get("/console/style.css", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await response.text()).toBe("");
  });

  it("redirects /console and /console/index.html to /console/, keeping the query", async () => {
    for (const path of ["/console", "/console/index.html"]) {
      const response = await get(`${path}?from=bookmark`, { redirect: "manual" });
      expect(response.status).toBe(308);
      expect(new URL(response.headers.get("location") as string, ORIGIN).href).toBe(`${ORIGIN}/console/?from=bookmark`);
    }
  });

  it("refuses other methods with 405 and Allow, and unknown files with 404, in the API's error shape", async () => {
    const post = await get("/console/", { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    const missing = await get("/console/missing.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("serves the pages when the producer's bindings are missing (the API answers 500 naming them)", async () => {
    const page = await get("/console/", {}, {});
    expect(page.status).toBe(200);
    const api = await get("/healthz", {}, {});
    expect(api.status).toBe(500);
  });
});
