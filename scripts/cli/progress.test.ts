import { describe, expect, it } from "vitest";
import type { Json } from "./admin-client.ts";
import { followJob, formatDuration, progressLine } from "./progress.ts";

const job = (sent: number, status = "running"): Json => ({
  id: "rj_1",
  status,
  total: 300,
  sent,
  rate_per_second: 50,
  eta_seconds: Math.ceil((300 - sent) / 50),
});

function capture(isTTY: boolean) {
  const written: string[] = [];
  return { written, output: { isTTY, write: (text: string) => void written.push(text) } };
}

describe("replay progress", () => {
  it("draws a bar with count, rate and ETA", () => {
    expect(progressLine(job(150), true)).toBe(`[${"#".repeat(15)}${"·".repeat(15)}]  50% 150/300 sent · 50/s · ETA 3s`);
    expect(progressLine(job(300, "completed"), false)).toBe("100% 300/300 sent · 50/s · completed");
    expect(progressLine({ ...job(0, "completed"), total: 0 }, false)).toBe("100% 0/0 sent · 50/s · completed");
  });

  it("formats durations for long replays", () => {
    expect([formatDuration(5), formatDuration(65), formatDuration(7300)]).toEqual(["5s", "1m05s", "2h01m"]);
  });

  it("on a terminal redraws one line until the job finishes", async () => {
    const states = [job(0), job(100), job(300, "completed")];
    const { written, output } = capture(true);
    const final = await followJob("rj_1", {
      getJob: async () => states.shift() as Json,
      output,
      sleep: async () => {},
    });
    expect(final.status).toBe("completed");
    expect(written.filter((w) => w.startsWith("\r"))).toHaveLength(3);
    expect(written.at(-1)).toBe("\n");
  });

  it("without a terminal prints a plain line only when the progress changes", async () => {
    const states = [job(0), job(0), job(50), job(300, "completed")];
    const { written, output } = capture(false);
    await followJob("rj_1", { getJob: async () => states.shift() as Json, output, sleep: async () => {} });
    expect(written).toEqual([
      "  0% 0/300 sent · 50/s · ETA 6s\n",
      " 16% 50/300 sent · 50/s · ETA 5s\n",
      "100% 300/300 sent · 50/s · completed\n",
    ]);
  });
});
