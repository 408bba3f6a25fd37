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

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !Object.hasOwn(from, head)) return;
  const value = from[head];
  if (rest.length === 0) {
    to[head] = structuredClone(value);
    return;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  const existing = to[head];
  const target = typeof existing === "object" && existing !== null ? (existing as Record<string, unknown>) : {};
  to[head] = target;
  copyPath(value as Record<string, unknown>, target, rest);
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
    copyPath(source, out, parts);
  }
  return out;
}
