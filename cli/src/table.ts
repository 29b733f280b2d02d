import { displayWidth, truncate } from './width.js';

/** A result as the read API answers it: typed columns and rows in column order. */
export interface Table {
  columns: readonly { name: string; type: string }[];
  rows: readonly (readonly unknown[])[];
}

export interface TableOptions {
  /** Cells wider than this many terminal columns are cut with an ellipsis. Default 60. */
  maxCellWidth?: number;
}

/** What a SQL NULL looks like in a cell, as ClickHouse's own client prints it. */
export const NULL_TEXT = 'NULL';

// ClickHouse wraps types in these; the value inside decides the alignment.
const wrapper = /^(?:Nullable|LowCardinality)\((.*)\)$/;
const numericType = /^(?:U?Int\d+|Float\d+|Decimal(?:\d+)?\(.*\)|Decimal)$/;
const numericText = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

function isNumericType(type: string): boolean {
  let t = type;
  for (let m = wrapper.exec(t); m?.[1] !== undefined; m = wrapper.exec(t)) t = m[1];
  return numericType.test(t);
}

/**
 * Right-align a column when its ClickHouse type is a number; without a type (or with an unknown one), when
 * every value that is there looks like one. 64-bit integers come as strings, so the text decides, not `typeof`.
 */
function isNumericColumn(type: string, values: unknown[]): boolean {
  if (type) return isNumericType(type);
  const present = values.filter((v) => v !== null && v !== undefined);
  return (
    present.length > 0 &&
    present.every((v) => typeof v === 'number' || (typeof v === 'string' && numericText.test(v)))
  );
}

/** One value as one line of text: NULL named, nested values as JSON, line breaks shown as escapes. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return NULL_TEXT;
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A raw newline would break the row across lines and the alignment with it.
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

function pad(text: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return right ? fill + text : text + fill;
}

/**
 * The result as an aligned text table: a header, a rule, one line per row. Numbers are right-aligned, text
 * left-aligned, widths measured in terminal columns (wide CJK and emoji count two), and cells wider than
 * `maxCellWidth` cut with an ellipsis. Ends with a newline.
 */
export function formatTable(table: Table, opts: TableOptions = {}): string {
  const max = Math.max(1, opts.maxCellWidth ?? 60);
  const { columns } = table;
  const cells = table.rows.map((row) => columns.map((_, i) => truncate(cellText(row[i]), max)));
  const headers = columns.map((c) => truncate(c.name, max));
  const right = columns.map((c, i) =>
    isNumericColumn(
      c.type,
      table.rows.map((row) => row[i]),
    ),
  );
  const widths = columns.map((_, i) =>
    Math.max(displayWidth(headers[i] ?? ''), ...cells.map((row) => displayWidth(row[i] ?? ''))),
  );
  const line = (texts: string[]) =>
    texts
      .map((t, i) => pad(t, widths[i] ?? 0, right[i] ?? false))
      .join(' │ ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  return `${[line(headers), rule, ...cells.map(line)].join('\n')}\n`;
}

/** The line under a table: how many rows, and how long ClickHouse took. */
export function formatFooter(rowCount: number, elapsedMs: number): string {
  const rows = `${rowCount} ${rowCount === 1 ? 'row' : 'rows'}`;
  const time = elapsedMs < 1000 ? `${elapsedMs.toFixed(1)} ms` : `${(elapsedMs / 1000).toFixed(2)} s`;
  return `${rows} in ${time}\n`;
}
