/**
 * A small SVG renderer for benchmark charts: horizontal bars, one panel per unit (events/s,
 * milliseconds…), bars grouped by measurement, ours and the baseline in fixed colours; or, for a
 * figure sampled over time (a soak's memory), a line panel with an optional tolerance band. The
 * output is a standalone SVG document with no scripts, fonts or external references, so it
 * renders the same on GitHub, in a browser and in an image viewer.
 */

export type BarRole = "ours" | "baseline" | "reference";

export interface Bar {
  label: string;
  value: number;
  role: BarRole;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

/** Bars of one panel share one scale, so a panel holds one unit. */
export interface BarPanel {
  title: string;
  unit: string;
  groups: BarGroup[];
}

/** One sampled series: `[x, y]` points in x order. */
export interface LineSeries {
  label: string;
  role: BarRole;
  points: (readonly [x: number, y: number])[];
}

/**
 * Series over time sharing one y scale (`unit`) and one x scale (`xUnit`); `band` shades a
 * tolerance range (e.g. ±10 % of a median) so a reader sees at once whether the line stays in it.
 */
export interface LinePanel {
  title: string;
  unit: string;
  xUnit: string;
  lines: LineSeries[];
  band?: { low: number; high: number; label: string };
}

export type ChartPanel = BarPanel | LinePanel;

export function isLinePanel(panel: ChartPanel): panel is LinePanel {
  return "lines" in panel;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  /** Legend text per role (default: edgebus / baseline / reference). */
  legend?: Partial<Record<BarRole, string>>;
  panels: ChartPanel[];
}

const COLOURS: Record<BarRole, string> = { ours: "#2563eb", baseline: "#9ca3af", reference: "#f59e0b" };
const LEGEND: Record<BarRole, string> = { ours: "edgebus", baseline: "baseline", reference: "reference" };

const WIDTH = 820;
const LABEL_WIDTH = 250;
const VALUE_WIDTH = 110;
const BAR_HEIGHT = 16;
const BAR_GAP = 4;
const GROUP_GAP = 10;
const PANEL_TITLE = 26;
const PANEL_GAP = 18;
const HEADER = 74;
const PLOT_HEIGHT = 180;
const BAND_COLOUR = "#dcfce7";

/** Escapes the five XML special characters for text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `12345.6` → `12,346`; `3.456` → `3.46`; `0.01234` → `0.0123`: three significant figures below 100; no value → `n/a`. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || value === 0) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(3)).toString();
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x}" y="${y}"${attributes ? ` ${attributes}` : ""}>${escapeXml(content)}</text>`;
}

/** Draws a line panel at `top`; returns its SVG parts and its height. */
function linePanel(panel: LinePanel, top: number): { parts: string[]; height: number } {
  const parts = [text(10, top + 16, `${panel.title} (${panel.unit})`, 'class="panel"')];
  const plotTop = top + PANEL_TITLE + 6;
  const left = 80;
  const right = WIDTH - 20;
  const points = panel.lines.flatMap((line) =>
    line.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  );
  const ys = [...points.map(([, y]) => y), ...(panel.band ? [panel.band.low, panel.band.high] : [])];
  const xs = points.map(([x]) => x);
  if (ys.length === 0 || xs.length === 0) {
    parts.push(text(left, plotTop + 20, "no samples", 'class="sub"'));
    return { parts, height: PANEL_TITLE + 40 };
  }
  // A little room above and below, so a flat line does not sit on the frame.
  const [minY, maxY] = [Math.min(...ys), Math.max(...ys)];
  const pad = (maxY - minY) * 0.1 || Math.abs(maxY) * 0.05 || 1;
  const [lowY, highY] = [minY - pad, maxY + pad];
  const [lowX, highX] = [Math.min(...xs), Math.max(...xs)];
  const toX = (x: number) => left + (highX === lowX ? 0 : ((x - lowX) / (highX - lowX)) * (right - left));
  const toY = (y: number) => plotTop + PLOT_HEIGHT - ((y - lowY) / (highY - lowY)) * PLOT_HEIGHT;
  const bottom = plotTop + PLOT_HEIGHT;
  if (panel.band) {
    const [bandTop, bandBottom] = [toY(panel.band.high), toY(panel.band.low)];
    parts.push(
      `<rect x="${left}" y="${bandTop.toFixed(1)}" width="${right - left}" height="${(bandBottom - bandTop).toFixed(1)}" fill="${BAND_COLOUR}"><title>${escapeXml(`${panel.band.label}: ${formatValue(panel.band.low)}–${formatValue(panel.band.high)} ${panel.unit}`)}</title></rect>`,
    );
    parts.push(text(right - 4, bandTop - 3, panel.band.label, 'text-anchor="end" class="sub"'));
  }
  parts.push(`<path d="M${left} ${plotTop}V${bottom}H${right}" fill="none" stroke="#6b7280"/>`);
  parts.push(text(left - 6, plotTop + 10, formatValue(highY), 'text-anchor="end" class="value"'));
  parts.push(text(left - 6, bottom, formatValue(lowY), 'text-anchor="end" class="value"'));
  parts.push(text(left, bottom + 16, formatValue(lowX), 'class="value"'));
  parts.push(text(right, bottom + 16, `${formatValue(highX)} ${panel.xUnit}`, 'text-anchor="end" class="value"'));
  for (const line of panel.lines) {
    const drawn = line.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (drawn.length === 0) continue;
    const path = drawn.map(([x, y], i) => `${i === 0 ? "M" : "L"}${toX(x).toFixed(1)} ${toY(y).toFixed(1)}`).join("");
    parts.push(
      `<path d="${path}" fill="none" stroke="${COLOURS[line.role]}" stroke-width="1.5"><title>${escapeXml(`${line.label}: ${drawn.length} samples`)}</title></path>`,
    );
  }
  return { parts, height: PANEL_TITLE + 6 + PLOT_HEIGHT + 24 };
}

/** Renders `spec` as an SVG document; negative or non-finite values are drawn as empty bars. */
export function renderChart(spec: ChartSpec): string {
  const parts: string[] = [];
  const barArea = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  let y = HEADER;
  for (const panel of spec.panels) {
    if (isLinePanel(panel)) {
      const drawn = linePanel(panel, y);
      parts.push(...drawn.parts);
      y += drawn.height + PANEL_GAP;
      continue;
    }
    parts.push(text(10, y + 16, `${panel.title} (${panel.unit})`, 'class="panel"'));
    y += PANEL_TITLE;
    const values = panel.groups.flatMap((group) => group.bars.map((bar) => bar.value));
    const max = Math.max(0, ...values.filter((value) => Number.isFinite(value)));
    for (const group of panel.groups) {
      group.bars.forEach((bar, index) => {
        const label = index === 0 ? `${group.label} · ${bar.label}` : bar.label;
        const width = max > 0 && Number.isFinite(bar.value) && bar.value > 0 ? (bar.value / max) * barArea : 0;
        const barY = y + index * (BAR_HEIGHT + BAR_GAP);
        parts.push(text(LABEL_WIDTH - 8, barY + BAR_HEIGHT - 4, label, 'text-anchor="end"'));
        parts.push(
          `<rect x="${LABEL_WIDTH}" y="${barY}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLOURS[bar.role]}"><title>${escapeXml(`${group.label} ${bar.label}: ${formatValue(bar.value)} ${panel.unit}`)}</title></rect>`,
        );
        parts.push(text(LABEL_WIDTH + width + 6, barY + BAR_HEIGHT - 4, formatValue(bar.value), 'class="value"'));
      });
      y += group.bars.length * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP;
    }
    y += PANEL_GAP;
  }
  const height = Math.ceil(y);
  const roles = [
    ...new Set(
      spec.panels.flatMap((p) =>
        isLinePanel(p) ? p.lines.map((l) => l.role) : p.groups.flatMap((g) => g.bars.map((b) => b.role)),
      ),
    ),
  ];
  const legend = roles.map(
    (role, index) =>
      `<rect x="${10 + index * 130}" y="50" width="12" height="12" fill="${COLOURS[role]}"/>${text(26 + index * 130, 61, spec.legend?.[role] ?? LEGEND[role])}`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    `<title>${escapeXml(spec.title)}</title>`,
    "<style>text{font:12px sans-serif;fill:#111827}.title{font-size:15px;font-weight:bold}.panel{font-weight:bold}.sub,.value{fill:#4b5563}</style>",
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(10, 20, spec.title, 'class="title"'),
    spec.subtitle ? text(10, 40, spec.subtitle, 'class="sub"') : "",
    ...legend,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
