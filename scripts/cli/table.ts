/**
 * Plain-text tables for the CLI: a header, a rule, left-aligned columns sized to their widest
 * cell, cells cut with `…` beyond a column's maximum so a long error message cannot wrap the
 * table.
 */

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string | number | null | undefined;
  /** Longest cell shown; longer ones end with `…`. Default 60. */
  readonly max?: number;
  readonly align?: "left" | "right";
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => cut(String(column.value(row) ?? "-"), column.max ?? 60)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => (line[i] as string).length)),
  );
  const pad = (text: string, i: number) =>
    columns[i]?.align === "right" ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number);
  const lines = [
    columns.map((column, i) => pad(column.header, i)).join("  "),
    widths.map((width) => "─".repeat(width)).join("  "),
    ...cells.map((line) => line.map((cell, i) => pad(cell, i)).join("  ")),
  ];
  return lines.map((line) => line.trimEnd()).join("\n");
}

/** Key/value pairs, one per line, keys aligned. */
export function renderPairs(pairs: ReadonlyArray<[string, string | number | null | undefined]>): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value ?? "-"}`).join("\n");
}
