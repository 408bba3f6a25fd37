import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { DOCS_HTML } from "../docs-html.ts";
import { defineRoute } from "../route-definition.ts";

/** `GET /docs` — the interactive documentation (self-contained; renders `/openapi.json`). */
export const docsPage = defineRoute(
  createRoute({
    method: "get",
    path: "/docs",
    operationId: "docs",
    summary: "Interactive API documentation",
    responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } } },
  }),
  (c) =>
    c.html(DOCS_HTML, 200, {
      // The page's inline script and style are its only code; nothing is loaded from elsewhere.
      "Content-Security-Policy":
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'",
    }),
);
