export interface TableSection {
  title: string;
  header: readonly string[];
  rows: readonly (readonly string[])[];
}

const gap = '  ';

/**
 * One plain-text table of several sections that share column widths, so every section lines up
 * under the same columns. The first column is left-aligned (names), the rest right-aligned
 * (numbers).
 */
export function formatTable(sections: readonly TableSection[]): string {
  const widths: number[] = [];
  for (const { header, rows } of sections) {
    for (const row of [header, ...rows]) {
      row.forEach((cell, i) => {
        widths[i] = Math.max(widths[i] ?? 0, cell.length);
      });
    }
  }
  const total = widths.reduce((sum, width) => sum + width, 0) + gap.length * (widths.length - 1);
  const rule = '-'.repeat(total);
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join(gap)
      .trimEnd();
  const out: string[] = [];
  for (const { title, header, rows } of sections) {
    out.push(rule, title, line(header), ...rows.map(line));
  }
  out.push(rule);
  return out.join('\n');
}

export function formatMs(ms: number, digits = 1): string {
  return ms.toFixed(digits);
}

export function formatBytes(bytes: number): string {
  return bytes.toLocaleString('en-US');
}
