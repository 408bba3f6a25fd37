import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import type { RecordToProduce } from "../kafka/record.ts";

/**
 * CloudEvents 1.0 Kafka protocol binding (https://github.com/cloudevents/spec, kafka-protocol-binding.md).
 *
 * - `binary` (default): every attribute except `data`/`data_base64`/`datacontenttype` becomes a
 *   `ce_<name>` header (extensions included, numbers and booleans as their string form),
 *   `datacontenttype` becomes the `content-type` header, the value is the data: JSON text for
 *   JSON content types (and when no content type is given), the string itself for other
 *   string data, the decoded bytes for `data_base64`.
 * - `structured`: `content-type: application/cloudevents+json`, the value is the whole event.
 *
 * Key: the `partitionkey` extension (the entity id), so one entity's events keep their order.
 *
 * No tombstones: a Kafka record with a null value deletes its key on compacted topics. An event
 * without data is therefore written with an empty (zero-length, non-null) value in binary mode;
 * consumers see "no data" from the empty value plus the absent `content-type` header.
 */
export type BindingMode = "binary" | "structured";

const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";
const NOT_HEADERS = new Set(["data", "data_base64", "datacontenttype"]);

export function toKafkaRecord(event: CloudEventRecord, topic: string, mode: BindingMode): RecordToProduce {
  const key = typeof event.partitionkey === "string" && event.partitionkey !== "" ? event.partitionkey : undefined;
  if (mode === "structured") {
    return {
      topic,
      ...(key === undefined ? {} : { key }),
      value: JSON.stringify(event),
      headers: [{ key: "content-type", value: STRUCTURED_CONTENT_TYPE }],
    };
  }
  const headers: { key: string; value: string }[] = [];
  for (const [name, value] of Object.entries(event)) {
    if (NOT_HEADERS.has(name) || value === undefined || value === null) continue;
    headers.push({ key: `ce_${name}`, value: typeof value === "string" ? value : JSON.stringify(value) });
  }
  const hasData = event.data !== undefined || typeof event.data_base64 === "string";
  const contentType = event.datacontenttype ?? (event.data !== undefined ? "application/json" : undefined);
  if (hasData && contentType) headers.push({ key: "content-type", value: contentType });
  return { topic, ...(key === undefined ? {} : { key }), value: dataValue(event, contentType), headers };
}

function dataValue(event: CloudEventRecord, contentType: string | undefined): string | Uint8Array {
  if (typeof event.data_base64 === "string") return Buffer.from(event.data_base64, "base64");
  if (event.data === undefined) return "";
  if (typeof event.data === "string" && contentType !== undefined && !isJson(contentType)) return event.data;
  return JSON.stringify(event.data);
}

function isJson(contentType: string): boolean {
  const media = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || media.endsWith("+json") || media === "text/json";
}
