// A panel's table: a header row, then a row per answer row as `cells` turns it into cell values, integers grouped
// (`1,234`), and a line saying why it is empty when it is.

import { $, tr } from './dom.js';
import { integer } from './format.js';
import { filtered } from './view.js';

export function table(id, headings, rows, cells) {
  const el = /** @type {HTMLTableElement} */ ($(id));
  const head = document.createElement('thead');
  head.append(tr(headings, 'th'));
  const body = document.createElement('tbody');
  if (rows.length === 0) {
    const empty = tr(
      [filtered() ? 'Nothing for these filters in this range' : 'No data in this range yet'],
      'td',
    );
    empty.cells[0].colSpan = headings.length;
    empty.className = 'empty';
    body.append(empty);
  }
  body.append(
    ...rows.map((row) =>
      tr(
        cells(row).map((v) =>
          typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? integer.format(Number(v)) : v,
        ),
      ),
    ),
  );
  el.replaceChildren(head, body);
}
