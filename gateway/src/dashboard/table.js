// A panel's table: a header row, then a row per answer row as `cells` turns it into cell values, integers grouped
// (`1,234`, the exact number kept in the cell's `data-value`), and a line saying why it is empty when it is
// (`empty`, or the default's: no data, or none for these filters).

import { $, tr } from './dom.js';
import { integer } from './format.js';
import { filtered } from './view.js';

const isInteger = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));

export function table(id, headings, rows, cells, emptyText = undefined) {
  const el = /** @type {HTMLTableElement} */ ($(id));
  const head = document.createElement('thead');
  head.append(tr(headings, 'th'));
  const body = document.createElement('tbody');
  if (rows.length === 0) {
    const empty = tr(
      [emptyText ?? (filtered() ? 'Nothing for these filters in this range' : 'No data in this range yet')],
      'td',
    );
    empty.cells[0].colSpan = headings.length;
    empty.className = 'empty';
    body.append(empty);
  }
  for (const row of rows) {
    const values = cells(row);
    const line = tr(values.map((v) => (isInteger(v) ? integer.format(Number(v)) : v)));
    // The number as the query answered it, for the CSV export and whoever checks the page against SQL.
    for (const [i, v] of values.entries()) if (isInteger(v)) line.cells[i].dataset.value = String(v);
    body.append(line);
  }
  el.replaceChildren(head, body);
}
