/**
 * The template language, deliberately tiny so that translators can edit templates as data:
 * `{{name}}` inserts a variable; `{{#name}}…{{/name}}` keeps its content only when the variable is
 * non-empty. Nothing else: no expressions, no logic, no partials. Templates are parsed when they
 * are loaded, so a malformed template or an unknown variable fails at load time, never at send.
 */
import { EdgebusError } from "#shared/errors.ts";

type Node =
  | { kind: "text"; text: string }
  | { kind: "variable"; name: string }
  | { kind: "section"; name: string; children: Node[] };

export interface ParsedTemplate {
  readonly source: string;
  readonly nodes: readonly Node[];
  /** Every variable the template reads (inserted or used as a section condition). */
  readonly variables: ReadonlySet<string>;
}

const TAG = /\{\{\s*([#/]?)([a-z][a-z0-9_]*)\s*\}\}/g;

function templateError(message: string, source: string): EdgebusError {
  return new EdgebusError("internal", `template: ${message}`, { retryable: false, details: { source } });
}

export function parseTemplate(source: string): ParsedTemplate {
  const root: Node[] = [];
  const stack: { name: string; children: Node[] }[] = [];
  const variables = new Set<string>();
  let current = root;
  let last = 0;
  for (const match of source.matchAll(TAG)) {
    const [tag, marker, name = ""] = match;
    if (match.index > last) current.push({ kind: "text", text: source.slice(last, match.index) });
    last = match.index + tag.length;
    variables.add(name);
    if (marker === "#") {
      const section = { kind: "section" as const, name, children: [] as Node[] };
      current.push(section);
      stack.push(section);
      current = section.children;
    } else if (marker === "/") {
      const open = stack.pop();
      if (open?.name !== name)
        throw templateError(`{{/${name}}} closes ${open ? `{{#${open.name}}}` : "nothing"}`, source);
      current = stack.at(-1)?.children ?? root;
    } else {
      current.push({ kind: "variable", name });
    }
  }
  if (stack.length > 0) throw templateError(`{{#${stack.at(-1)?.name}}} is never closed`, source);
  const rest = source.slice(last);
  if (rest.length > 0) current.push({ kind: "text", text: rest });
  if (/\{\{|\}\}/.test(source.replace(TAG, ""))) throw templateError("stray {{ or }} (tags are {{name}})", source);
  return { source, nodes: root, variables };
}

/**
 * Renders with `encode` applied to every inserted value (HTML escaping for HTML, identity for
 * plain text). A variable missing from `values` is a programming error: the loader has already
 * proved that every template only reads variables its notification rule provides.
 */
export function renderTemplate(
  template: ParsedTemplate,
  values: Readonly<Record<string, string>>,
  encode: (value: string) => string = (value) => value,
): string {
  const walk = (nodes: readonly Node[]): string =>
    nodes
      .map((node) => {
        if (node.kind === "text") return node.text;
        const value = values[node.name];
        if (value === undefined) throw templateError(`variable "${node.name}" has no value`, template.source);
        if (node.kind === "variable") return encode(value);
        return value === "" ? "" : walk(node.children);
      })
      .join("");
  return walk(template.nodes);
}
