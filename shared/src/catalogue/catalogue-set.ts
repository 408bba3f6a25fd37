/**
 * The catalogue plug-in contract and the set of catalogues one deployment loads
 * (`EDGEBUS_CATALOGUES=gov,commerce,learning`).
 *
 * A plug-in is one module outside `shared/` (`schemas/index.ts` for `gov`, `schemas/<namespace>/`
 * for the others): a `Catalogue` (namespace, types with schemas and examples, type → topic map,
 * topic settings, entity id per type, aliases) and its routes, loaded from a data file
 * (`schemas/route-file.ts`). The set answers every catalogue question for any loaded type by
 * dispatching on the type's namespace, and refuses to be built when two catalogues would share a
 * namespace or a topic, so a deployment with a collision stops at start naming it.
 */
import { EdgebusError } from "../errors.ts";
import type { RoutingRule } from "../routing/routing-rule.ts";
import type { Catalogue, DataValidation, UpcastOutcome } from "./catalogue.ts";
import { closeMatches } from "./close-matches.ts";
import type { EventTypeDefinition, TopicDefinition } from "./types.ts";
import type { UpcastInput } from "./upcaster.ts";

export interface CataloguePlugin {
  readonly catalogue: Catalogue;
  /** One line for `--help`, docs and logs. */
  readonly description: string;
  /** The catalogue's routes, validated (`parseRouteFile`); they apply to its own types only. */
  readonly routes: readonly RoutingRule[];
}

/** What the producer asks of its catalogue; `Catalogue` and `CatalogueSet` both answer it. */
export type EventCatalogue = Pick<
  Catalogue,
  | "get"
  | "has"
  | "require"
  | "types"
  | "topics"
  | "topicFor"
  | "topic"
  | "validateData"
  | "entityIdOf"
  | "upcast"
  | "versionsOf"
  | "closeMatches"
  | "resolveType"
>;

const DEFAULT_SUGGESTIONS = 3;

export class CatalogueSet implements EventCatalogue {
  readonly #plugins: readonly CataloguePlugin[];
  /** Each plug-in with its types' prefix (`gov.`), worked out once rather than per lookup. */
  readonly #prefixes: readonly (readonly [string, CataloguePlugin])[];
  /** The plug-in of every known type (`pluginOf` runs several times per published event). */
  readonly #pluginOfType = new Map<string, CataloguePlugin | undefined>();

  constructor(plugins: readonly CataloguePlugin[]) {
    this.#plugins = plugins;
    this.#prefixes = plugins.map((plugin) => [`${plugin.catalogue.namespace}.`, plugin] as const);
    for (const plugin of plugins) {
      for (const type of plugin.catalogue.types()) this.#pluginOfType.set(type, this.#pluginByPrefix(type));
    }
    const problems = collisions(plugins);
    if (problems.length > 0) {
      throw new EdgebusError("internal", `catalogues cannot be loaded together: ${problems.join("; ")}`, {
        details: { problems },
        retryable: false,
      });
    }
  }

  /** The loaded namespaces, in load order. */
  namespaces(): string[] {
    return this.#plugins.map((plugin) => plugin.catalogue.namespace);
  }

  plugins(): readonly CataloguePlugin[] {
    return this.#plugins;
  }

  /** The plug-in a type belongs to (by namespace), or undefined. */
  pluginOf(type: string): CataloguePlugin | undefined {
    return this.#pluginOfType.has(type) ? this.#pluginOfType.get(type) : this.#pluginByPrefix(type);
  }

  #pluginByPrefix(type: string): CataloguePlugin | undefined {
    for (const [prefix, plugin] of this.#prefixes) if (type.startsWith(prefix)) return plugin;
    return undefined;
  }

  /** The routes that apply to `type`: its own catalogue's (none for an unknown namespace). */
  routesFor(type: string): readonly RoutingRule[] {
    return this.pluginOf(type)?.routes ?? [];
  }

  get(type: string): EventTypeDefinition | undefined {
    return this.pluginOf(type)?.catalogue.get(type);
  }

  has(type: string): boolean {
    return this.get(type) !== undefined;
  }

  /**
   * The full type `name` stands for, for a key publishing into `namespaces` (default: all loaded):
   * a type is itself; a short name resolves when exactly one of those catalogues has it as an
   * alias. Anything else comes back unchanged, and `require` explains (unknown, or ambiguous).
   */
  resolveType(name: string, namespaces?: readonly string[]): string {
    if (this.has(name)) return name;
    const [only, ...others] = this.aliasTargets(name, namespaces);
    return only !== undefined && others.length === 0 ? only : name;
  }

  /** Every full type `name` is an alias of, among the catalogues of `namespaces` (default: all). */
  aliasTargets(name: string, namespaces?: readonly string[]): string[] {
    const targets: string[] = [];
    for (const { catalogue } of this.#plugins) {
      if (namespaces !== undefined && !namespaces.includes(catalogue.namespace)) continue;
      const type = catalogue.resolveType(name);
      if (type !== name) targets.push(type);
    }
    return targets;
  }

  /** The definition, or `unknown_event_type` naming close matches, or the types an ambiguous short name stands for. */
  require(type: string, namespaces?: readonly string[]): EventTypeDefinition {
    const definition = this.get(type);
    if (definition) return definition;
    const targets = this.aliasTargets(type, namespaces);
    if (targets.length > 1) {
      throw new EdgebusError(
        "unknown_event_type",
        `"${type}" is a short name in several catalogues this key publishes to (${targets.join(", ")}); send the full type`,
        { details: { type, did_you_mean: targets } },
      );
    }
    const suggestions = this.closeMatches(type, DEFAULT_SUGGESTIONS);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?` : "";
    throw new EdgebusError("unknown_event_type", `unknown event type "${type}"${hint}`, {
      details: { type, did_you_mean: suggestions },
    });
  }

  types(): string[] {
    return this.#plugins.flatMap((plugin) => plugin.catalogue.types()).sort();
  }

  topics(): TopicDefinition[] {
    return this.#plugins
      .flatMap((plugin) => plugin.catalogue.topics())
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  topic(name: string): TopicDefinition | undefined {
    for (const { catalogue } of this.#plugins) {
      const found = catalogue.topic(name);
      if (found) return found;
    }
    return undefined;
  }

  topicFor(type: string): string {
    return this.#owner(type).topicFor(type);
  }

  validateData(type: string, data: unknown): DataValidation {
    return this.#owner(type).validateData(type, data);
  }

  entityIdOf(type: string, data: unknown): string | undefined {
    return this.#owner(type).entityIdOf(type, data);
  }

  upcast(type: string, input: UpcastInput): UpcastOutcome | undefined {
    return this.#owner(type).upcast(type, input);
  }

  versionsOf(type: string): ReturnType<Catalogue["versionsOf"]> {
    return this.#owner(type).versionsOf(type);
  }

  closeMatches(type: string, limit = DEFAULT_SUGGESTIONS): string[] {
    return closeMatches(type, this.types(), limit);
  }

  #owner(type: string): Catalogue {
    this.require(type);
    return (this.pluginOf(type) as CataloguePlugin).catalogue;
  }
}

/** Namespaces that are equal or nest (`gov` / `gov.x`), and topics declared by two catalogues. */
function collisions(plugins: readonly CataloguePlugin[]): string[] {
  const problems: string[] = [];
  const topicOwner = new Map<string, string>();
  plugins.forEach((plugin, index) => {
    const namespace = plugin.catalogue.namespace;
    for (const other of plugins.slice(0, index)) {
      const theirs = other.catalogue.namespace;
      if (theirs === namespace) problems.push(`namespace "${namespace}" is loaded twice`);
      else if (namespace.startsWith(`${theirs}.`) || theirs.startsWith(`${namespace}.`)) {
        problems.push(`namespaces "${theirs}" and "${namespace}" overlap (one is a prefix of the other)`);
      }
    }
    for (const topic of plugin.catalogue.topics()) {
      const owner = topicOwner.get(topic.name);
      if (owner !== undefined && owner !== namespace) {
        problems.push(`topic "${topic.name}" is declared by both "${owner}" and "${namespace}"`);
      }
      topicOwner.set(topic.name, namespace);
    }
  });
  return problems;
}
