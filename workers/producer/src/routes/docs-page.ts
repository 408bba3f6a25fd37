import { DOCS_HTML } from "../docs-html.ts";
import type { ProducerApp } from "../hono-env.ts";

/** `GET /docs` — the interactive documentation (self-contained; renders `/openapi.json`). */
export function registerDocsPage(app: ProducerApp): void {
  app.get("/docs", (c) =>
    c.html(DOCS_HTML, 200, {
      // The page's inline script and style are its only code; nothing is loaded from elsewhere.
      "Content-Security-Policy":
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'",
    }),
  );
}
