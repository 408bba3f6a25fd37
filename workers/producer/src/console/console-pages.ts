/**
 * The operator console's pages — `/console/` (index.html), `/console/app.js`, `/console/style.css`
 * — served by the producer from its bundle (`console-pages.generated.ts`, rendered from
 * `workers/producer/console-pages/` by `npm run generate`).
 *
 * Why not Workers static assets: an `[assets]` directory puts the asset router in front of every
 * request to the Worker, the publish API's included. In local workerd (`npm run dev`, the
 * benchmarks) that router is JavaScript in the same process and cost about 2 ms of CPU per request
 * (bench/README.md, producer); on Cloudflare it is one more hop before each API call. Three small
 * files do not need it.
 *
 * Every page carries the console's Content-Security-Policy (this origin only, no inline script, no
 * framing) and the other security headers below, a strong ETag, and `Cache-Control: no-cache`
 * (browsers revalidate, and get 304 while the file is unchanged). `/console` and
 * `/console/index.html` redirect to `/console/`. The handlers need no bindings: they answer before
 * the producer's configuration is read, so the pages load even when a binding is missing and the
 * Overview can say what is wrong.
 */
import type { Context } from "hono";
import type { ProducerApp, ProducerEnv } from "../hono-env.ts";
import { refuseOtherMethods } from "../route-definition.ts";
import type { ConsolePage } from "./console-page.ts";
import { CONSOLE_PAGES } from "./console-pages.generated.ts";

export const CONSOLE_ROOT = "/console/";

/** Headers of every console page (docs/console.md, "What the console pages may load"). */
export const CONSOLE_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
  "Cache-Control": "no-cache",
};

/** URL path → embedded file: `index.html` answers for the directory itself. */
const PAGES_BY_PATH = new Map(
  Object.entries(CONSOLE_PAGES).map(([name, page]) => [
    name === "index.html" ? CONSOLE_ROOT : `${CONSOLE_ROOT}${name}`,
    page,
  ]),
);

/** Paths that redirect to `CONSOLE_ROOT`. */
const ROOT_ALIASES = ["/console", `${CONSOLE_ROOT}index.html`];

/** True when `If-None-Match` names `etag` (or `*`); weak comparison, as RFC 9110 asks for GET. */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

function servePage(c: Context<ProducerEnv>, page: ConsolePage): Response {
  const headers = new Headers(CONSOLE_PAGE_HEADERS);
  headers.set("ETag", page.etag);
  if (notModified(c.req.header("if-none-match"), page.etag)) return new Response(null, { status: 304, headers });
  headers.set("Content-Type", page.contentType);
  return new Response(page.body, { status: 200, headers });
}

function redirectToRoot(c: Context<ProducerEnv>): Response {
  return c.redirect(`${CONSOLE_ROOT}${new URL(c.req.url).search}`, 308);
}

/** Registers the pages (GET, and HEAD through Hono) and their redirects; other methods get 405. */
export function registerConsolePages(app: ProducerApp): void {
  for (const alias of ROOT_ALIASES) app.get(alias, redirectToRoot);
  for (const [path, page] of PAGES_BY_PATH) app.get(path, (c) => servePage(c, page));
  for (const path of [...PAGES_BY_PATH.keys(), ...ROOT_ALIASES]) refuseOtherMethods(app, path, ["GET", "HEAD"]);
}
