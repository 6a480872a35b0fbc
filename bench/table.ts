// The benchmarks' table: measure | value | side by side | goal, each
// column at least its given width, padded, with a rule under the head.

export type Row = [measure: string, value: string, sideBySide: string, goal: string];

/** Prints the rows; `minWidths` per column, `maxWidth` caps what one long cell may widen a column to. */
export function printTable(rows: Row[], minWidths: [number, number, number, number], maxWidth = Infinity): void {
  const w = minWidths.map((n, k) => Math.max(n, ...rows.map((row) => Math.min(row[k].length, maxWidth))));
  console.log(['measure', 'value', 'side by side', 'goal'].map((h, k) => h.padEnd(w[k] ?? 0)).join(' | '));
  console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  for (const row of rows) console.log(row.map((c, k) => c.padEnd(w[k] ?? 0)).join(' | ').trimEnd());
}
