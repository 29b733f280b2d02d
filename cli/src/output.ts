import { formatTable, type Table, type TableOptions } from './table.js';

/** How a result is printed: `table` for people, `json` and `csv` for other programs. */
export type Format = 'table' | 'json' | 'csv';
export const formats: readonly Format[] = ['table', 'json', 'csv'];

// RFC 4180: a field with a comma, a quote or a line break goes in quotes, its quotes doubled.
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The result as CSV with a header line; NULL is an empty field. CRLF line ends, as RFC 4180 has them. */
export function formatCsv(table: Table): string {
  const lines = [table.columns.map((c) => csvField(c.name)), ...table.rows.map((r) => r.map(csvField))];
  return lines.map((fields) => `${fields.join(',')}\r\n`).join('');
}

/**
 * The result as a JSON array of objects keyed by column name, values exactly as the API sent them (64-bit
 * integers stay strings, so nothing is rounded).
 */
export function formatJson(table: Table): string {
  const objects = table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c.name, row[i]])));
  return `${JSON.stringify(objects, null, 2)}\n`;
}

export function formatResult(table: Table, format: Format, opts: TableOptions = {}): string {
  switch (format) {
    case 'json':
      return formatJson(table);
    case 'csv':
      return formatCsv(table);
    case 'table':
      return formatTable(table, opts);
  }
}
