import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";

/**
 * Why a body cannot be archived, or undefined when it can: the archive keys on `source` + `id`
 * and indexes `type` + `time`, so those must be present and `time` must be a timestamp.
 */
export function unarchivableReason(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return "message body is not a CloudEvent object";
  const event = body as Partial<CloudEventRecord>;
  if (event.specversion !== "1.0") return "specversion is not 1.0";
  for (const attribute of ["id", "source", "type", "time"] as const) {
    const value = event[attribute];
    if (typeof value !== "string" || value === "") return `${attribute} is missing`;
  }
  if (Number.isNaN(Date.parse(event.time as string))) return "time is not a timestamp";
  if (event.eventversion !== undefined && !Number.isSafeInteger(event.eventversion))
    return "eventversion is not an integer";
  return undefined;
}
