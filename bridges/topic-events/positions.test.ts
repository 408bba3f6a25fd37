import { describe, expect, it } from "vitest";
import { formatEventId, formatPositionId, parseEventId, startCursors } from "./positions.ts";

const bounds = [
  { partition: 0, start: 0, end: 42 },
  { partition: 1, start: 5, end: 7 },
  { partition: 2, start: 0, end: 18 },
];

describe("stream positions (Last-Event-ID)", () => {
  it("puts the event's own partition first, then every other partition's last offset", () => {
    const cursors = new Map([
      [0, 42],
      [1, 7],
      [2, 18],
    ]);
    expect(formatEventId(2, cursors)).toBe("2:17,0:41,1:6");
    expect(formatPositionId(cursors)).toBe("0:41,1:6,2:17");
    expect(parseEventId("2:17,0:41,1:6")).toEqual(
      new Map([
        [2, 17],
        [0, 41],
        [1, 6],
      ]),
    );
    expect(parseEventId("0:-1")).toEqual(new Map([[0, -1]]));
  });

  it("resumes right after the id in each partition, at the log end where it names none, at the log start where retention removed it", () => {
    expect(startCursors(bounds, [0, 1, 2], parseEventId("0:10,1:2"))).toEqual(
      new Map([
        [0, 11],
        [1, 5],
        [2, 18],
      ]),
    );
    expect(startCursors(bounds, [1], undefined)).toEqual(new Map([[1, 7]]));
  });

  it("refuses malformed ids, offsets past the log end and partitions the topic does not have", () => {
    for (const bad of ["", "0", "a:1", "0:1,0:2", "0:-2", "1:2;2:3"]) expect(() => parseEventId(bad), bad).toThrow();
    expect(() => startCursors(bounds, [0], parseEventId("0:42"))).toThrow(/past the log end/);
    expect(() => startCursors(bounds, [0], parseEventId("9:1"))).toThrow(/does not have/);
  });
});
