import { describe, expect, it } from "vitest";
import { type ChartSpec, escapeXml, formatValue, renderChart } from "./svg-chart.ts";

const spec: ChartSpec = {
  title: "Producer <vs> empty & Hono",
  subtitle: "closed loop",
  panels: [
    {
      title: "throughput",
      unit: "events/s",
      groups: [
        {
          label: "single",
          bars: [
            { label: "producer", value: 500, role: "ours" },
            { label: "empty Hono", value: 1000, role: "baseline" },
          ],
        },
      ],
    },
    {
      title: "latency",
      unit: "ms",
      groups: [{ label: "p99", bars: [{ label: "producer", value: 12.345, role: "ours" }] }],
    },
  ],
};

/** Bar widths in document order (the <rect>s with a <title>, i.e. the bars, not legend or background). */
function barWidths(svg: string): number[] {
  return [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="16" fill="[^"]+"><title>/g)].map((m) =>
    Number(m[1]),
  );
}

describe("renderChart", () => {
  it("renders a well-formed standalone SVG with escaped text", () => {
    const svg = renderChart(spec);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Producer &#60;vs&#62; empty &#38; Hono");
    expect(svg).not.toContain("<vs>");
    expect(svg).not.toMatch(/<script|href=/);
    // every element opened is closed
    const opened = (svg.match(/<(text|title)[ >]/g) ?? []).length;
    const closed = (svg.match(/<\/(text|title)>/g) ?? []).length;
    expect(opened).toBe(closed);
  });

  it("scales bars within a panel to the panel's largest value", () => {
    const [producer, baseline, latency] = barWidths(renderChart(spec));
    expect(baseline).toBeGreaterThan(0);
    expect(producer).toBeCloseTo((baseline as number) / 2, 0);
    // the latency panel has its own scale: its only bar is full width
    expect(latency).toBeCloseTo(baseline as number, 0);
  });

  it("labels each bar with its value and each panel with its unit", () => {
    const svg = renderChart(spec);
    expect(svg).toContain(">500</text>");
    expect(svg).toContain(">1,000</text>");
    expect(svg).toContain(">12.3</text>");
    expect(svg).toContain("throughput (events/s)");
    expect(svg).toContain("latency (ms)");
  });

  it("draws a missing or negative value as an empty bar instead of breaking the layout", () => {
    const svg = renderChart({
      title: "t",
      panels: [
        {
          title: "p",
          unit: "u",
          groups: [
            {
              label: "g",
              bars: [
                { label: "nan", value: Number.NaN, role: "ours" },
                { label: "neg", value: -5, role: "baseline" },
                { label: "ok", value: 2, role: "reference" },
              ],
            },
          ],
        },
      ],
    });
    expect(barWidths(svg).slice(0, 2)).toEqual([0, 0]);
    expect(svg).toContain(">n/a</text>");
    expect(svg).not.toContain('width="NaN"');
  });
});

describe("formatValue and escapeXml", () => {
  it("formats large numbers with separators and small ones to three significant figures", () => {
    expect(formatValue(12345.6)).toBe("12,346");
    expect(formatValue(3.456)).toBe("3.46");
    expect(formatValue(0.01234)).toBe("0.0123");
    expect(formatValue(0)).toBe("0");
    expect(formatValue(Number.NaN)).toBe("n/a");
  });

  it("escapes the XML special characters", () => {
    expect(escapeXml(`a<b>&"c'`)).toBe("a&#60;b&#62;&#38;&#34;c&#39;");
  });
});

describe("line panels", () => {
  const series: ChartSpec = {
    title: "RSS <soak>",
    panels: [
      {
        title: "resident memory",
        unit: "MB",
        xUnit: "s",
        lines: [
          {
            label: "bridge RSS",
            role: "ours",
            points: [
              [0, 100],
              [1, 110],
              [2, Number.NaN],
              [3, 90],
            ],
          },
        ],
        band: { low: 90, high: 110, label: "±10 % of the median" },
      },
      { title: "rate", unit: "msg/s", groups: [{ label: "achieved", bars: [{ label: "x", value: 5, role: "ours" }] }] },
    ],
  };

  /** The `d` attribute of every line (paths with a <title>), as [x, y] pairs. */
  function linePoints(svg: string): number[][][] {
    return [...svg.matchAll(/<path d="([^"]+)" fill="none" stroke="[^"]+" stroke-width="1.5"><title>/g)].map((m) =>
      [...(m[1] as string).matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])]),
    );
  }

  it("draws one path per series through its finite points, left to right, higher values higher up", () => {
    const svg = renderChart(series);
    const [line] = linePoints(svg);
    expect(line).toHaveLength(3); // the NaN sample is left out
    const [first, second, last] = line as number[][];
    expect((second as number[])[0]).toBeGreaterThan((first as number[])[0] as number);
    expect((last as number[])[0]).toBeGreaterThan((second as number[])[0] as number);
    // SVG y grows downwards: 110 above 100 above 90
    expect((second as number[])[1]).toBeLessThan((first as number[])[1] as number);
    expect((last as number[])[1]).toBeGreaterThan((first as number[])[1] as number);
    expect(svg).not.toContain("NaN");
  });

  it("shades the band and labels the axes, the unit and the legend; bar panels below still render", () => {
    const svg = renderChart(series);
    expect(svg).toContain("±10 % of the median: 90–110 MB");
    expect(svg).toContain("resident memory (MB)");
    expect(svg).toContain("3 s</text>");
    expect(svg).toContain(">edgebus</text>");
    expect(svg).toContain("rate (msg/s)");
    expect(barWidths(svg)).toHaveLength(1);
    expect(svg).toContain("RSS &#60;soak&#62;");
  });

  it("says so when a line panel has no samples", () => {
    const svg = renderChart({
      title: "empty",
      panels: [{ title: "rss", unit: "MB", xUnit: "s", lines: [{ label: "bridge", role: "ours", points: [] }] }],
    });
    expect(svg).toContain(">no samples</text>");
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });
});
