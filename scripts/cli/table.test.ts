import { describe, expect, it } from "vitest";
import { renderPairs, renderTable } from "./table.ts";

describe("CLI tables", () => {
  it("sizes columns to their widest cell, right-aligns numbers, cuts long cells with …", () => {
    const rows = [
      { id: 7, queue: "notifications", error: "bad_request: sendgrid rejected the request (400)" },
      { id: 12, queue: "archive", error: null },
    ];
    const text = renderTable(rows, [
      { header: "ID", value: (r) => r.id, align: "right" },
      { header: "QUEUE", value: (r) => r.queue },
      { header: "ERROR", value: (r) => r.error, max: 20 },
    ]);
    expect(text.split("\n")).toEqual([
      "ID  QUEUE          ERROR",
      "──  ─────────────  ────────────────────",
      " 7  notifications  bad_request: sendgr…",
      "12  archive        -",
    ]);
  });

  it("flattens line breaks so one entry stays one line", () => {
    const text = renderTable([{ m: "line one\nline two" }], [{ header: "M", value: (r) => r.m }]);
    expect(text.split("\n")[2]).toBe("line one line two");
  });

  it("aligns key/value pairs", () => {
    expect(
      renderPairs([
        ["job", "rj_1"],
        ["requested by", null],
      ]),
    ).toBe("job           rj_1\nrequested by  -");
  });
});
