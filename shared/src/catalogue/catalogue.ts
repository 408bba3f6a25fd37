/**
 * The event catalogue at run time: every known event type with its `data` schema and topic.
 * Built once from domain modules (`schemas/<domain>.ts`); the constructor rejects an
 * inconsistent catalogue (duplicate or malformed type names, undeclared topics, examples that
 * fail their own schema) so mistakes surface at start-up or in tests, never per request.
 *
 * Backward compatibility (see `scripts/catalogue-compatibility.ts`) guarantees the current schema of a type accepts
 * everything its earlier versions accepted, so `validateData` always validates against the
 * current version, including for archived events being replayed.
 */
import type { z } from "zod";
import { EdgebusError } from "../errors.ts";
import { topicForType } from "../names.ts";
import { closeMatches } from "./close-matches.ts";
import { type DataIssue, toDataIssues } from "./data-issues.ts";
import { compileFastParse, type FastParse, REJECTED } from "./fast-parse.ts";
import { COMPRESSION_TYPES, type DomainCatalogue, type EventTypeDefinition, type TopicDefinition } from "./types.ts";
import { type UpcastInput, upcasterId } from "./upcaster.ts";

export type { DataIssue } from "./data-issues.ts";

export interface CatalogueOptions {
  /**
   * Leading segments every type and topic shares: `gov` for the government catalogue
   * (`gov.<domain>.<entity>.<action>`), e.g. `com.example` for another organisation's.
   */
  readonly namespace: string;
}

export type DataValidation =
  | { readonly ok: true; readonly data: unknown }
  | { readonly ok: false; readonly issues: DataIssue[] };

/** An event received in another form of its type (`upcaster.ts`), mapped to the current shape. */
export type UpcastOutcome =
  | {
      readonly ok: true;
      /** The upcaster's id (`seed-v1`): the form the event was received in. */
      readonly form: string;
      /** `data` in the current shape, validated by the current schema. */
      readonly data: unknown;
      /** The event's new `source`, when the form names sources differently. */
      readonly source?: string;
    }
  | { readonly ok: false; readonly form: string; readonly issues: DataIssue[] };

/** Lowercase name segment: `citizen`, `logged_in`. */
const SEGMENT = "[a-z][a-z0-9_]*";
const SEGMENT_PATTERN = new RegExp(`^${SEGMENT}$`);
const NAMESPACE_PATTERN = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`);
/** An alias is dot-separated lowercase segments too (`citizen.created`). */
const ALIAS_PATTERN = NAMESPACE_PATTERN;
/** An upcaster's form name (`seed`); its id adds the version (`seed-v1`). */
const FORM_PATTERN = /^[a-z][a-z0-9]*$/;
/** The input an upcaster's example is checked with when the catalogue is built. */
const EXAMPLE_UPCAST_INPUT = { time: "2026-01-01T00:00:00Z", source: "/example", sourceGivenAs: "attribute" } as const;
/** Kafka allows more, but a topic with more partitions than this is a typo, not a design. */
const MAX_PARTITIONS = 1024;
/** Kafka's legal topic names. */
const KAFKA_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const DEFAULT_SUGGESTIONS = 3;

export class Catalogue {
  readonly namespace: string;
  readonly #domains: readonly DomainCatalogue[];
  readonly #events = new Map<string, EventTypeDefinition>();
  readonly #topics = new Map<string, TopicDefinition>();
  /** alias → full type */
  readonly #aliases = new Map<string, string>();

  constructor(domains: readonly DomainCatalogue[], options: CatalogueOptions) {
    this.namespace = options.namespace;
    this.#domains = domains;
    const problems = this.#load(domains);
    if (problems.length > 0) {
      throw new EdgebusError("internal", `invalid event catalogue: ${problems.join("; ")}`, {
        details: { problems },
        retryable: false,
      });
    }
  }

  /** The domain modules this catalogue was built from, in the order given. */
  domains(): readonly DomainCatalogue[] {
    return this.#domains;
  }

  get(type: string): EventTypeDefinition | undefined {
    return this.#events.get(type);
  }

  has(type: string): boolean {
    return this.#events.has(type);
  }

  /**
   * The definition of `type`, or an `unknown_event_type` error (422) whose details list the
   * closest known types (`did_you_mean`).
   */
  require(type: string): EventTypeDefinition {
    const definition = this.#events.get(type);
    if (definition) return definition;
    const suggestions = this.closeMatches(type, DEFAULT_SUGGESTIONS);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?` : "";
    throw new EdgebusError("unknown_event_type", `unknown event type "${type}"${hint}`, {
      details: { type, did_you_mean: suggestions },
    });
  }

  /**
   * The full type a name stands for: a type of the catalogue is itself, an alias its type
   * (`citizen.created` → `gov.auth.citizen.created`); any other name is returned unchanged (and
   * `require` then answers `unknown_event_type`). Resolution is per catalogue: a key publishing
   * into this catalogue gets this catalogue's aliases.
   */
  resolveType(name: string): string {
    if (this.#events.has(name)) return name;
    return this.#aliases.get(name) ?? name;
  }

  /** Every alias with its type, sorted by alias. */
  aliases(): { alias: string; type: string }[] {
    return [...this.#aliases].map(([alias, type]) => ({ alias, type })).sort((a, b) => (a.alias < b.alias ? -1 : 1));
  }

  /**
   * `data` of `type` sent in another form (`upcaster.ts`), mapped to the current shape:
   * `undefined` when no upcaster of the type recognises it (it is meant to be the current shape);
   * otherwise the form's id with the mapped `data`, validated by the current schema, or every
   * problem, each at the path the sender wrote.
   */
  upcast(type: string, input: UpcastInput): UpcastOutcome | undefined {
    const definition = this.require(type);
    const upcaster = definition.upcasters?.find((candidate) => candidate.recognises(input.data));
    if (upcaster === undefined) return undefined;
    const form = upcasterId(upcaster);
    const result = upcaster.upcast(input);
    if (!result.ok) return { ok: false, form, issues: [...result.issues] };
    const validation = this.validateData(type, result.data);
    if (!validation.ok) {
      const pathOf = result.pathOf ?? ((path: string) => path);
      return { ok: false, form, issues: validation.issues.map((issue) => ({ ...issue, path: pathOf(issue.path) })) };
    }
    return { ok: true, form, data: validation.data, ...(result.source === undefined ? {} : { source: result.source }) };
  }

  /** All event types, sorted. */
  types(): string[] {
    return [...this.#events.keys()].sort();
  }

  /** All topics, sorted by name. */
  topics(): TopicDefinition[] {
    return [...this.#topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Kafka topic of a known type: its own `topic`, else the type minus its action (`gov.auth.citizen`). */
  topicFor(type: string): string {
    return topicOfDefinition(this.require(type));
  }

  /** The definition of a topic of this catalogue, with its settings. */
  topic(name: string): TopicDefinition | undefined {
    return this.#topics.get(name);
  }

  partitionsOf(topic: string): number {
    const definition = this.#topics.get(topic);
    if (!definition) throw new EdgebusError("not_found", `unknown topic "${topic}"`, { details: { topic } });
    return definition.partitions;
  }

  /** Up to `limit` known types closest to `type` (typos, missing namespace), nearest first. */
  closeMatches(type: string, limit = DEFAULT_SUGGESTIONS): string[] {
    return closeMatches(type, this.#events.keys(), limit);
  }

  /**
   * Validates `data` against the current schema of `type`. Returns the parsed value, or every
   * failing field as `{path: "data.email", message}` (bounded, see `MAX_REPORTED_ISSUES`).
   * Throws `unknown_event_type` for a type the catalogue does not know.
   */
  validateData(type: string, data: unknown): DataValidation {
    const schema = this.require(type).data;
    // The compiled form first (same answer as zod, without zod's interpreter: `fast-parse.ts`);
    // zod itself for what it refuses, so the issues are zod's.
    const fast = this.#fastParseOf(type, schema);
    if (fast !== undefined) {
      const parsed = fast(data);
      if (parsed !== REJECTED) return { ok: true, data: parsed };
    }
    const result = schema.safeParse(data);
    if (result.success) return { ok: true, data: result.data };
    return { ok: false, issues: toDataIssues(result.error, data) };
  }

  /** Compiled `data` parsers by type, built on first use; `null` where the schema stays with zod. */
  readonly #fastParsers = new Map<string, FastParse | null>();

  #fastParseOf(type: string, schema: z.ZodType): FastParse | undefined {
    let fast = this.#fastParsers.get(type);
    if (fast === undefined) {
      fast = compileFastParse(schema) ?? null;
      this.#fastParsers.set(type, fast);
    }
    return fast ?? undefined;
  }

  /**
   * The entity id of an event (its `entityIdField` in `data`) as a string, for `partitionkey` and
   * `subject` when the producer did not set them; `undefined` when the type has no entity id
   * field or `data` lacks it.
   */
  entityIdOf(type: string, data: unknown): string | undefined {
    const field = this.require(type).entityIdField;
    if (field === undefined) return undefined;
    const value = readPath(data, field);
    return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
  }

  /** Every version of `type`'s schema, oldest first, ending with the current one. */
  versionsOf(type: string): { version: number; data: z.ZodType }[] {
    const definition = this.require(type);
    return [...(definition.previousVersions ?? []), { version: definition.version, data: definition.data }];
  }

  #load(domains: readonly DomainCatalogue[]): string[] {
    const problems: string[] = [];
    if (!NAMESPACE_PATTERN.test(this.namespace)) {
      return [`namespace "${this.namespace}" must be dot-separated lowercase segments`];
    }
    const seenDomains = new Set<string>();
    // A catalogue may name its own topics (`order-events`), and one topic may carry several domains' types.
    const namedTopics = new Set(
      domains.flatMap((d) => d.events.flatMap((e) => (e.topic === undefined ? [] : [e.topic]))),
    );
    const usedTopics = new Set<string>();
    const typed: EventTypeDefinition[] = [];
    for (const domain of domains) {
      if (!SEGMENT_PATTERN.test(domain.domain)) problems.push(`domain "${domain.domain}" must be a lowercase segment`);
      if (seenDomains.has(domain.domain)) problems.push(`domain "${domain.domain}" is declared twice`);
      seenDomains.add(domain.domain);
      const prefix = `${this.namespace}.${domain.domain}`;
      const topicPattern = new RegExp(`^${escapeRegExp(prefix)}\\.${SEGMENT}$`);
      // `<namespace>.<domain>.<entity>.<action>`, or `<namespace>.<entity>.<action>` (domain = entity)
      const typePattern = new RegExp(`^${escapeRegExp(prefix)}(\\.${SEGMENT})?\\.${SEGMENT}$`);

      for (const topic of domain.topics) {
        if (namedTopics.has(topic.name) ? !KAFKA_TOPIC_NAME.test(topic.name) : !topicPattern.test(topic.name)) {
          problems.push(
            `topic "${topic.name}" must be named ${prefix}.<entity> (or be a Kafka topic name an event type names)`,
          );
        }
        if (this.#topics.has(topic.name)) problems.push(`topic "${topic.name}" is declared twice`);
        problems.push(...checkTopicSettings(topic));
        this.#topics.set(topic.name, topic);
      }

      for (const event of domain.events) {
        const where = `event type "${event.type}"`;
        if (!typePattern.test(event.type)) problems.push(`${where} must be named ${prefix}.<entity>.<action>`);
        if (this.#events.has(event.type)) problems.push(`${where} is declared twice`);
        this.#events.set(event.type, event);
        if (typePattern.test(event.type)) {
          usedTopics.add(topicOfDefinition(event));
          typed.push(event);
        }
        problems.push(...checkVersions(event).map((p) => `${where}: ${p}`));
        const example = event.data.safeParse(event.example);
        if (!example.success) {
          const issues = toDataIssues(example.error, event.example).map((i) => `${i.path} ${i.message}`);
          problems.push(`${where}: example is invalid (${issues.join(", ")})`);
        } else if (event.entityIdField !== undefined) {
          const id = readPath(example.data, event.entityIdField);
          if (typeof id !== "string" && typeof id !== "number") {
            problems.push(`${where}: entityIdField "${event.entityIdField}" is not a string or number in the example`);
          }
        }
      }
    }
    for (const event of typed) {
      const topic = topicOfDefinition(event);
      if (!this.#topics.has(topic)) problems.push(`event type "${event.type}": topic "${topic}" is not declared`);
    }
    for (const topic of this.#topics.values()) {
      if (!usedTopics.has(topic.name)) problems.push(`topic "${topic.name}" has no event types`);
    }
    problems.push(...checkEventVersionAgreement([...this.#events.values()]));
    problems.push(...this.#loadAliases(), ...this.#checkUpcasters());
    return problems;
  }

  #loadAliases(): string[] {
    const problems: string[] = [];
    for (const event of this.#events.values()) {
      for (const alias of event.aliases ?? []) {
        const where = `alias "${alias}" of ${event.type}`;
        if (!ALIAS_PATTERN.test(alias)) problems.push(`${where} must be dot-separated lowercase segments`);
        else if (alias === this.namespace || alias.startsWith(`${this.namespace}.`)) {
          problems.push(`${where} must not start with the namespace "${this.namespace}" (it would look like a type)`);
        }
        if (this.#events.has(alias)) problems.push(`${where} is an event type`);
        const taken = this.#aliases.get(alias);
        if (taken !== undefined) problems.push(`${where} is already an alias of ${taken}`);
        else this.#aliases.set(alias, event.type);
      }
    }
    return problems;
  }

  #checkUpcasters(): string[] {
    const problems: string[] = [];
    for (const event of this.#events.values()) {
      const seen = new Set<string>();
      for (const upcaster of event.upcasters ?? []) {
        const id = upcasterId(upcaster);
        const where = `event type "${event.type}": upcaster ${id}`;
        if (!FORM_PATTERN.test(upcaster.form)) problems.push(`${where}: form must be lowercase letters and digits`);
        if (!Number.isInteger(upcaster.formVersion) || upcaster.formVersion < 1) {
          problems.push(`${where}: formVersion must be a positive integer`);
        }
        if (seen.has(id)) problems.push(`${where} is declared twice`);
        seen.add(id);
        if (upcaster.recognises(event.example)) problems.push(`${where} recognises the type's current example`);
        if (!upcaster.recognises(upcaster.example)) {
          problems.push(`${where} does not recognise its own example`);
          continue;
        }
        const outcome = this.upcast(event.type, { data: upcaster.example, ...EXAMPLE_UPCAST_INPUT });
        if (outcome !== undefined && !outcome.ok) {
          const issues = outcome.issues.map((issue) => `${issue.path} ${issue.message}`);
          problems.push(`${where}: example does not upcast (${issues.join(", ")})`);
        } else if (outcome?.form !== id) {
          problems.push(`${where}: its example is recognised by ${outcome?.form ?? "nothing"} first`);
        }
      }
    }
    return problems;
  }
}

function checkTopicSettings(topic: TopicDefinition): string[] {
  const problems: string[] = [];
  const where = `topic "${topic.name}"`;
  if (!Number.isInteger(topic.partitions) || topic.partitions < 1 || topic.partitions > MAX_PARTITIONS) {
    problems.push(`${where} partitions must be an integer from 1 to ${MAX_PARTITIONS}`);
  }
  const { replicationFactor: replicas, retentionMs, compressionType } = topic;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1 || replicas > 32)) {
    problems.push(`${where} replicationFactor must be an integer from 1 to 32`);
  }
  if (retentionMs !== undefined && (!Number.isSafeInteger(retentionMs) || retentionMs < -1 || retentionMs === 0)) {
    problems.push(`${where} retentionMs must be a positive integer (or -1 for no time limit)`);
  }
  if (compressionType !== undefined && !COMPRESSION_TYPES.includes(compressionType)) {
    problems.push(`${where} compressionType must be one of ${COMPRESSION_TYPES.join(", ")}`);
  }
  return problems;
}

/** An event type's Kafka topic: its own, or the type minus its action. */
export function topicOfDefinition(event: Pick<EventTypeDefinition, "type" | "topic">): string {
  return event.topic ?? topicForType(event.type);
}

function checkVersions(event: EventTypeDefinition): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(event.version) || event.version < 1) problems.push("version must be a positive integer");
  let last = 0;
  for (const previous of event.previousVersions ?? []) {
    if (!Number.isInteger(previous.version) || previous.version <= last) {
      problems.push("previousVersions must be positive integers in ascending order");
    }
    last = previous.version;
  }
  if (last >= event.version) problems.push(`previous version ${last} is not older than version ${event.version}`);
  return problems;
}

/**
 * Ordering by `eventversion` is per entity: a versionless event among versioned ones of the same
 * entity could not be placed, so the types of one topic either all require it or none does.
 */
function checkEventVersionAgreement(events: readonly EventTypeDefinition[]): string[] {
  const byTopic = new Map<string, EventTypeDefinition[]>();
  for (const event of events) {
    const topic = topicOfDefinition(event);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
  }
  const problems: string[] = [];
  for (const [topic, definitions] of byTopic) {
    const requiring = definitions.filter((d) => d.requiresEventVersion === true).map((d) => d.type);
    if (requiring.length > 0 && requiring.length < definitions.length) {
      const others = definitions.filter((d) => d.requiresEventVersion !== true).map((d) => d.type);
      problems.push(
        `topic "${topic}": ${requiring.join(", ")} require eventversion but ${others.join(", ")} do not; the types of one entity must agree`,
      );
    }
  }
  return problems;
}

/** Reads a dotted path (`id`, `reference.id`) from a plain object. */
function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
