/**
 * The event catalogues as the bridge sees them: every topic it may create with its settings, and
 * each event type's topic for the mirror. By default every shipped catalogue (a bridge serves
 * whichever catalogues its producers load; a topic is only created when first used or by
 * `topics apply`), or the namespaces `kafka.topics.catalogues` names.
 */
import type { CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import { topicForType } from "#shared/names.ts";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../../schemas/catalogues.ts";
import type { TopicSettings } from "./topic-settings.ts";

export const ALL_CATALOGUES: readonly string[] = Object.keys(SHIPPED_CATALOGUES);

export function bridgeCatalogues(namespaces: readonly string[] = ALL_CATALOGUES): CatalogueSet {
  return loadCatalogues(namespaces.join(","));
}

/** Topic → its catalogue settings. */
export function topicSettingsOf(catalogues: CatalogueSet): Map<string, TopicSettings> {
  return new Map(catalogues.topics().map(({ name, ...settings }) => [name, settings]));
}

const everything = bridgeCatalogues();

/** The Kafka topic of an event type: its catalogue's, or the type minus its action for a type no catalogue knows. */
export function edgeTopicOf(type: string): string {
  return everything.has(type) ? everything.topicFor(type) : topicForType(type);
}
