/**
 * Data minimisation per subscription (EventBridge's input transformer, reduced to a selection):
 * a subscription may list the event paths it may see (`data.application_id`, `subject`). The body
 * it receives then holds the CloudEvent's identity (`specversion`, `id`, `source`, `type`,
 * `time`) and exactly those paths; everything else never leaves the producer (the outbox row
 * already holds the reduced body). Without a selection it receives the whole event, minus the
 * producer's own reserved attributes (`edgebus*`), which are never sent.
 */
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { RESERVED_EXTENSION_PREFIX } from "#shared/envelope/extensions.ts";

/** Always sent: what identifies the event and lets a receiver deduplicate it. */
export const ALWAYS_SENT = ["specversion", "id", "source", "type", "time"] as const;

/** One path: dot-separated names (letters, digits, `_`, `-`); the first names an attribute. */
export const FIELD_PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_-]+){0,15}$/;
export const MAX_FIELDS = 64;

/** The value at `path` in `from`, or undefined when a step is missing or not an object. */
function valueAt(from: unknown, path: readonly string[]): unknown {
  let current = from;
  for (const name of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, name)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}

/** Sets `path` in `to` to a copy of `value`, creating the objects on the way. */
function setAt(to: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let target = to;
  for (const name of path.slice(0, -1)) {
    const next = target[name];
    if (typeof next !== "object" || next === null) target[name] = {};
    target = target[name] as Record<string, unknown>;
  }
  const last = path.at(-1);
  if (last !== undefined) target[last] = structuredClone(value);
}

/** The JSON object sent to a subscriber for `event` under its `fields` selection (null = everything). */
export function selectFields(event: CloudEventRecord, fields: readonly string[] | null): Record<string, unknown> {
  const source = event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (fields === null) {
    for (const [name, value] of Object.entries(source)) {
      if (!name.startsWith(RESERVED_EXTENSION_PREFIX) && value !== undefined) out[name] = value;
    }
    return out;
  }
  for (const name of ALWAYS_SENT) if (source[name] !== undefined) out[name] = source[name];
  for (const path of fields) {
    const parts = path.split(".");
    if (parts[0]?.startsWith(RESERVED_EXTENSION_PREFIX)) continue;
    const value = valueAt(source, parts);
    if (value !== undefined) setAt(out, parts, value);
  }
  return out;
}
