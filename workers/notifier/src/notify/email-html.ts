/**
 * The HTML part of an email, built from the rendered plain text so the two never disagree.
 * Values are escaped at insertion (see `renderEmail`), and the text between them is escaped
 * here, so nothing from an event can inject markup.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/**
 * Wraps already-escaped paragraphs (separated by blank lines) in a minimal, accessible document;
 * single newlines inside a paragraph become `<br>`.
 */
export function emailHtmlDocument(escapedBody: string, escapedSubject: string, locale: string): string {
  const paragraphs = escapedBody
    .split(/\n{2,}/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
    .map((paragraph) => `<p>${paragraph.replace(/\n/g, "<br>")}</p>`)
    .join("\n");
  return `<!doctype html>
<html lang="${escapeHtml(locale)}">
<head><meta charset="utf-8"><title>${escapedSubject}</title></head>
<body style="font-family: Arial, sans-serif; line-height: 1.5; color: #1f2328; max-width: 40em;">
${paragraphs}
</body>
</html>`;
}
