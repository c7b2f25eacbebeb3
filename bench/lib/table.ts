/** Plain-text tables for the report: the first `left` columns left-aligned, the figures right-aligned. */
export const fmt = (x: number | undefined | null, digits = 1) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

export function printTable(header: string[], rows: string[][], options: { left?: number; rule?: boolean } = {}) {
  const left = options.left ?? 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  if (options.rule) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
