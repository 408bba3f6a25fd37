import { afterEach, describe, expect, it, vi } from "vitest";
import { EdgebusError } from "./errors.ts";
import { createLogger, errorLogFields, eventLogFields, type LogLevel, withoutCredentials } from "./log.ts";

afterEach(() => vi.restoreAllMocks());

describe("createLogger", () => {
  it("writes one JSON line per record with level, msg, time, the base fields and the record's fields", () => {
    const lines: string[] = [];
    const logger = createLogger({ component: "bridge" }, (line) => lines.push(line)).child({ queue: "archive" });
    logger.log("info", "hello", { count: 3 });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? "");
    expect(record).toMatchObject({ level: "info", msg: "hello", component: "bridge", queue: "archive", count: 3 });
    expect(Date.parse(record.time)).not.toBeNaN();
  });

  it.each([
    ["error", "error"],
    ["warn", "warn"],
    ["info", "log"],
    ["debug", "log"],
  ] as const)("sends %s records to console.%s", (level: LogLevel, method) => {
    const spies = {
      error: vi.spyOn(console, "error").mockImplementation(() => undefined),
      warn: vi.spyOn(console, "warn").mockImplementation(() => undefined),
      log: vi.spyOn(console, "log").mockImplementation(() => undefined),
    };
    createLogger().log(level, "x");
    for (const [name, spy] of Object.entries(spies)) expect(spy).toHaveBeenCalledTimes(name === method ? 1 : 0);
  });
});

describe("field helpers", () => {
  it("eventLogFields keeps identifiers and never data", () => {
    const fields = eventLogFields({ id: "e1", source: "/s", type: "t", correlationid: "c", data: { email: "a@b.c" } });
    expect(fields).toEqual({ event_id: "e1", event_source: "/s", event_type: "t", correlationid: "c" });
  });

  it("errorLogFields names the code of an EdgebusError and the class of other errors", () => {
    expect(errorLogFields(new EdgebusError("upstream_unavailable", "kafka is down"))).toEqual({
      error_code: "upstream_unavailable",
      error_message: "kafka is down",
    });
    expect(errorLogFields(new TypeError("bad"))).toEqual({ error_message: "TypeError: bad" });
    expect(errorLogFields("plain")).toEqual({ error_message: "plain" });
  });

  it("withoutCredentials removes user and password from a URL", () => {
    expect(withoutCredentials("redis://user:secret@127.0.0.1:6379/0")).toBe("redis://127.0.0.1:6379/0");
    expect(withoutCredentials("not a url")).toBe("(not a URL)");
  });
});
