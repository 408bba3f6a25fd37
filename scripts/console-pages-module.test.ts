import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONSOLE_PAGES_DIRECTORY, renderConsolePagesModule } from "./console-pages-module.ts";

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function rootWith(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "edgebus-console-pages-"));
  roots.push(root);
  const directory = path.join(root, CONSOLE_PAGES_DIRECTORY);
  await mkdir(directory, { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(directory, name), body);
  return root;
}

/** Evaluates the rendered module's object literal (the one export, after its type import). */
function pagesOf(module: string): Record<string, { contentType: string; etag: string; body: string }> {
  const literal = module.slice(module.indexOf("= {") + 2, module.lastIndexOf("};") + 1);
  return Function(`return (${literal});`)();
}

describe("renderConsolePagesModule", () => {
  it("embeds every file byte for byte with its content type and a SHA-256 ETag", async () => {
    const script = 'const s = "quote \\" backslash \\\\ `tick` ${x}";\nconsole.log("é ✓");\n';
    const root = await rootWith({ "index.html": "<!doctype html>\n", "app.js": script, "style.css": "a{}" });
    const pages = pagesOf(renderConsolePagesModule(root));
    expect(Object.keys(pages)).toEqual(["app.js", "index.html", "style.css"]);
    expect(pages["app.js"]?.body).toBe(script);
    expect(pages["app.js"]?.contentType).toBe("text/javascript; charset=utf-8");
    expect(pages["index.html"]?.contentType).toBe("text/html; charset=utf-8");
    expect(pages["style.css"]?.contentType).toBe("text/css; charset=utf-8");
    const digest = createHash("sha256").update(script, "utf8").digest("base64url").slice(0, 22);
    expect(pages["app.js"]?.etag).toBe(`"${digest}"`);
  });

  it("gives a changed file a new ETag and an unchanged one the same", async () => {
    const before = pagesOf(renderConsolePagesModule(await rootWith({ "app.js": "1", "style.css": "a{}" })));
    const after = pagesOf(renderConsolePagesModule(await rootWith({ "app.js": "2", "style.css": "a{}" })));
    expect(after["app.js"]?.etag).not.toBe(before["app.js"]?.etag);
    expect(after["style.css"]?.etag).toBe(before["style.css"]?.etag);
  });

  it("refuses a file it has no content type for", async () => {
    const root = await rootWith({ "logo.svg": "<svg/>" });
    expect(() => renderConsolePagesModule(root)).toThrow(/logo\.svg: no content type/);
  });
});
