import { globToRegExp } from "../glob.ts";

/**
 * Which Kafka topic an edge topic is mirrored to. Identity by default; `include` / `exclude`
 * are glob patterns (`*` = any run of characters) on the edge topic, `rename` rules are tried
 * in order and the first match wins (`*` in `to` is replaced by what `*` matched in `from`).
 *
 * @example new TopicMapping({ exclude: ["gov.notification.*"], rename: [{ from: "gov.*", to: "onprem.gov.*" }] })
 */
export interface TopicMappingRules {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly rename?: readonly { readonly from: string; readonly to: string }[];
}

export class TopicMapping {
  readonly #include: RegExp[];
  readonly #exclude: RegExp[];
  readonly #rename: { from: RegExp; to: string }[];

  constructor(rules: TopicMappingRules = {}) {
    this.#include = (rules.include ?? []).map(globToRegExp);
    this.#exclude = (rules.exclude ?? []).map(globToRegExp);
    this.#rename = (rules.rename ?? []).map((r) => ({ from: globToRegExp(r.from), to: r.to }));
  }

  /** The destination topic, or `null` when the topic is not mirrored. */
  map(topic: string): string | null {
    if (this.#include.length > 0 && !this.#include.some((p) => p.test(topic))) return null;
    if (this.#exclude.some((p) => p.test(topic))) return null;
    for (const rule of this.#rename) {
      const match = rule.from.exec(topic);
      if (match) return rule.to.replace("*", match[1] ?? "");
    }
    return topic;
  }
}
