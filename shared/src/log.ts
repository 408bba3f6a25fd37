/**
 * Structured JSON logs for consumers, one line per record on `console.log` (Workers Logs and
 * Logpush index JSON lines). The field list is closed and holds identifiers only, so personal
 * data (names, emails, phone numbers, addresses, event `data`) cannot end up in a log line by
 * accident: there is no field to put it in.
 */
export interface LogFields {
  /** Queue message id; the request id of a consumer invocation. */
  request_id?: string;
  correlationid?: string;
  event_id?: string;
  event_source?: string;
  event_type?: string;
  queue?: string;
  consumer?: string;
  attempts?: number;
  outcome?: string;
  note?: string;
  delay_seconds?: number;
  error_code?: string;
  /** Error messages are written by edgebus code and never quote payload values. */
  error_message?: string;
  count?: number;
  duration_ms?: number;
  status?: number;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

export type LogWriter = (line: string) => void;

export function createLogger(base: LogFields = {}, write: LogWriter = (line) => console.log(line)): Logger {
  return {
    log(level, msg, fields = {}) {
      write(JSON.stringify({ level, msg, time: new Date().toISOString(), ...base, ...fields }));
    },
    child(fields) {
      return createLogger({ ...base, ...fields }, write);
    },
  };
}

/** Identifiers of a queue message body that is a CloudEvent record, without its data. */
export function eventLogFields(body: unknown): LogFields {
  if (typeof body !== "object" || body === null) return {};
  const record = body as Record<string, unknown>;
  const fields: LogFields = {};
  if (typeof record.id === "string") fields.event_id = record.id;
  if (typeof record.source === "string") fields.event_source = record.source;
  if (typeof record.type === "string") fields.event_type = record.type;
  if (typeof record.correlationid === "string") fields.correlationid = record.correlationid;
  return fields;
}
