/** Plain-text tables for the report CLI. */

export type Cell = string | number | boolean | null | undefined;

function show(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(3);
  }
  return String(value);
}

/** `empty` says why a table has no rows (e.g. "no closed 72 h windows yet: ..."). */
export function table(title: string, columns: string[], rows: Cell[][], empty?: string | null): string {
  const cells = rows.map((r) => r.map(show));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map((_, i) => rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === 'number'));
  const line = (r: string[]) => r.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ');
  const out = [title, line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  if (rows.length === 0) out.push(empty ? `(no rows: ${empty})` : '(no rows)');
  return `${out.join('\n')}\n`;
}

export const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
export const money = (minor: number | null | undefined): string => (minor === null || minor === undefined ? '-' : (minor / 100).toFixed(2));

export const ci = (i: { low: number; high: number } | null, f: (v: number) => string): string => (i ? `[${f(i.low)}, ${f(i.high)}]` : '-');
export const pp = (v: number) => `${(v * 100).toFixed(1)}pp`;

/** The verdict beside its rule: a result is called only with enough customers in each arm. */
export const verdict = (r: { significant: boolean; enough: boolean; minPerArm: number }): string =>
  r.enough ? (r.significant ? 'yes' : 'no') : `n<${r.minPerArm}`;
export const note = (text: string | null | undefined): string => (text ? `  note: ${text}\n` : '');
