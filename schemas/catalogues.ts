/**
 * The catalogues edgebus ships, by namespace, and the one place a deployment's choice
 * (`EDGEBUS_CATALOGUES=gov,commerce,learning`, default `gov`) becomes a `CatalogueSet`.
 * Adding a catalogue = a module exporting a `CataloguePlugin` (types, topics with settings,
 * aliases, routes data file) and one line here.
 */
import { type CataloguePlugin, CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import { EdgebusError } from "#shared/errors.ts";
import { commercePlugin } from "./commerce/index.ts";
import { governmentPlugin } from "./index.ts";
import { learningPlugin } from "./learning/index.ts";

export const SHIPPED_CATALOGUES: Readonly<Record<string, CataloguePlugin>> = {
  gov: governmentPlugin,
  commerce: commercePlugin,
  learning: learningPlugin,
};

export const DEFAULT_CATALOGUES = "gov";

/** `"gov,commerce"` → the namespaces, trimmed; empty or unset = the default. */
export function catalogueNames(setting: string | undefined): string[] {
  const text = setting === undefined || setting.trim() === "" ? DEFAULT_CATALOGUES : setting;
  return text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
}

const cache = new Map<string, CatalogueSet>();

/**
 * The catalogues named by `setting`, loaded together. Throws naming the problem for an unknown
 * name, a name given twice, or catalogues that collide (namespace or topic), so a deployment
 * with such a setting stops at start.
 */
export function loadCatalogues(setting: string | undefined): CatalogueSet {
  const names = catalogueNames(setting);
  const key = names.join(",");
  const cached = cache.get(key);
  if (cached) return cached;
  const unknown = names.filter((name) => !Object.hasOwn(SHIPPED_CATALOGUES, name));
  if (unknown.length > 0) {
    throw new EdgebusError(
      "internal",
      `EDGEBUS_CATALOGUES names unknown catalogue(s) ${unknown.join(", ")}; shipped: ${Object.keys(SHIPPED_CATALOGUES).join(", ")}`,
      { retryable: false, details: { unknown } },
    );
  }
  const set = new CatalogueSet(names.map((name) => SHIPPED_CATALOGUES[name] as CataloguePlugin));
  cache.set(key, set);
  return set;
}
