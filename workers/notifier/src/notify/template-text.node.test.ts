import { describe, expect, it } from "vitest";
import { escapeHtml } from "./email-html.ts";
import { parseTemplate, renderTemplate } from "./template-text.ts";

describe("template language", () => {
  it("inserts variables and lists what a template reads", () => {
    const template = parseTemplate("Hello {{ name }}, ref {{ref}}.");
    expect([...template.variables].sort()).toEqual(["name", "ref"]);
    expect(renderTemplate(template, { name: "Amina", ref: "PA-1" })).toBe("Hello Amina, ref PA-1.");
  });

  it("keeps a section only when its variable is non-empty", () => {
    const template = parseTemplate("A{{#comment}} ({{comment}}){{/comment}}.");
    expect(renderTemplate(template, { comment: "late" })).toBe("A (late).");
    expect(renderTemplate(template, { comment: "" })).toBe("A.");
  });

  it("encodes inserted values only, never the template text", () => {
    const template = parseTemplate("<b>{{name}}</b>");
    expect(renderTemplate(template, { name: "<script>alert(1)</script>" }, escapeHtml)).toBe(
      "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>",
    );
  });

  it("rejects malformed templates when they are parsed", () => {
    expect(() => parseTemplate("{{#a}}x")).toThrow(/never closed/);
    expect(() => parseTemplate("{{#a}}x{{/b}}")).toThrow(/closes/);
    expect(() => parseTemplate("Hello {{Name}}")).toThrow(/stray/);
    expect(() => parseTemplate("Hello {name}}")).toThrow(/stray/);
  });

  it("fails loudly when a value is missing at render time", () => {
    expect(() => renderTemplate(parseTemplate("{{x}}"), {})).toThrow(/"x" has no value/);
  });
});
