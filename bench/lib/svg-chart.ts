/**
 * A small SVG renderer for benchmark charts: horizontal bars, one panel per unit (events/s,
 * milliseconds…), bars grouped by measurement, ours and the baseline in fixed colours. The
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
export interface ChartPanel {
  title: string;
  unit: string;
  groups: BarGroup[];
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

/** Renders `spec` as an SVG document; negative or non-finite values are drawn as empty bars. */
export function renderChart(spec: ChartSpec): string {
  const parts: string[] = [];
  const barArea = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  let y = HEADER;
  for (const panel of spec.panels) {
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
  const roles = [...new Set(spec.panels.flatMap((p) => p.groups.flatMap((g) => g.bars.map((b) => b.role))))];
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
