import { afterEach, describe, expect, it, vi } from "vitest";
import { EdgebusError } from "../errors.ts";
import { databaseError } from "./client.ts";

/** A postgres.js error as the driver throws it: an Error with the SQLSTATE in `code`. */
function postgresError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: "PostgresError", code });
}

describe("databaseError", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("data and integrity errors are permanent", () => {
    for (const code of ["22P05", "22003", "23505", "42601"]) {
      const error = databaseError(postgresError(code, "refused"), "writing x");
      expect(error).toMatchObject({ code: "internal", retryable: false, details: { sqlstate: code } });
    }
  });

  it("connection failures are retryable", () => {
    const error = databaseError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "x");
    expect(error).toMatchObject({ code: "upstream_unavailable", retryable: true });
  });

  it.each([
    ["42P01", 'relation "edgebus.dead_letters" does not exist'],
    ["42703", 'column "event_text" of relation "dead_letters" does not exist'],
  ])(
    "a missing table or column (%s: code deployed before the migrations) is retryable and says to migrate",
    (code, text) => {
      const logged: string[] = [];
      vi.spyOn(console, "error").mockImplementation((line: string) => logged.push(line));
      const error = databaseError(postgresError(code, text), "writing edgebus.dead_letters");
      expect(error).toBeInstanceOf(EdgebusError);
      expect(error.retryable).toBe(true);
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(30);
      expect(error.message).toContain(code);
      expect(error.message).toContain("npm run migrate");
      expect(logged).toHaveLength(1);
      const line = JSON.parse(logged[0] as string);
      expect(line).toMatchObject({ level: "error", error_code: code, error_message: text });
      expect(line.msg).toContain("npm run migrate");
    },
  );
});
