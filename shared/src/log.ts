/**
 * The one logger of edgebus: the producer, the consumer Workers and the bridge all write
 * structured JSON, one line per record (Workers Logs, Logpush and any Node log shipper index JSON
 * lines). `error` records go to `console.error`, `warn` to `console.warn`, the rest to
 * `console.log`, so the platform's own level matches the record's.
 *
 * The field list is closed and holds identifiers only, so personal data (names, emails, phone
 * numbers, addresses, event `data`) cannot end up in a log line by accident: there is no field to
 * put it in.
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
  /** The part of the bridge or producer writing the record (`bridge`, `kafka-rest`, `mirror`, …). */
  component?: string;
  /** A queue or topic name. */
  destination?: string;
  /** An address edgebus serves or calls, without credentials (see `withoutCredentials`). */
  url?: string;
  job_id?: string;
  /** HTTP method and path of the request a record is about. */
  method?: string;
  path?: string;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

export type LogWriter = (line: string, level: LogLevel) => void;

/** Writes each record with the console method of its level. */
export const consoleWriter: LogWriter = (line, level) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

export function createLogger(base: LogFields = {}, write: LogWriter = consoleWriter): Logger {
  return {
    log(level, msg, fields = {}) {
      write(JSON.stringify({ level, msg, time: new Date().toISOString(), ...base, ...fields }), level);
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

/**
 * `error_code` and `error_message` of a thrown value: an EdgebusError's code, an Error's name and
 * message. Error messages are written by edgebus and its libraries, never by quoting a payload.
 */
export function errorLogFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      ...(typeof code === "string" ? { error_code: code } : {}),
      error_message:
        error.name === "Error" || error.name === "EdgebusError" ? error.message : `${error.name}: ${error.message}`,
    };
  }
  return { error_message: String(error) };
}

/** A URL for a log line: user name and password removed. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}
