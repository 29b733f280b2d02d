// CSV export: a "Download CSV" button under every table, writing the table shown in that panel (the shown tab of a
// tabbed one) as RFC 4180 text: the header row, then the rows as the table has them, integers ungrouped.

import { $ } from './dom.js';
import { view } from './view.js';

/**
 * One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces, quotes doubled. A value a
 * spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or carriage return first; event names and paths are
 * whatever a visitor's browser sent) gets a leading `'`, as OWASP's CSV injection advice has it.
 */
export function csvField(text) {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * The table as CSV lines ending in CRLF: every header and body row, each cell's `data-value` when it has one (the
 * number as the query answered it) and its text otherwise. The "no data" line of an empty table is not a row.
 */
export function csvOf(table) {
  const lines = [];
  for (const row of table.rows) {
    if (row.classList.contains('empty')) continue;
    lines.push(
      Array.from(row.cells, (cell) => csvField(cell.dataset.value ?? cell.textContent ?? '')).join(','),
    );
  }
  return lines.map((line) => `${line}\r\n`).join('');
}

/** Starts the download of `text` as `name` (a Blob URL; nothing leaves the page). */
function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  // The download has its own copy once the click is handled; the next task may let the URL go.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** What a file is called: project, table and the period the page shows, e.g. `demo-countries-2026-03-05.csv`. */
function fileName(id) {
  const from = $('period').dataset.from?.slice(0, 10) ?? '';
  return `${[view.project, id, from]
    .filter(Boolean)
    .join('-')
    .replace(/[^\w.-]+/g, '_')}.csv`;
}

/** A button after the tables of each panel; its name says which panel (`Download CSV: Countries`). */
export function wireCsv() {
  const containers = new Set(
    [...document.querySelectorAll('main table')].map((t) => t.closest('.panel, dialog')),
  );
  for (const container of containers) {
    if (!container) continue;
    const tables = [...container.querySelectorAll('table')];
    const last = /** @type {HTMLElement} */ (tables.at(-1));
    const title =
      container.getAttribute('aria-label') ?? container.querySelector('h2')?.firstChild?.textContent?.trim();
    const button = Object.assign(document.createElement('button'), {
      type: 'button',
      className: 'csv',
      textContent: 'Download CSV',
    });
    button.setAttribute('aria-label', `Download CSV: ${title}`);
    button.addEventListener('click', () => {
      const shown = tables.find((t) => !t.hidden) ?? tables[0];
      download(fileName(shown.id), csvOf(shown));
    });
    const line = Object.assign(document.createElement('p'), { className: 'export' });
    line.append(button);
    // After the table's scrolling box when it has one, so the button never scrolls out of sight with the rows.
    (last.parentElement && last.parentElement !== container ? last.parentElement : last).after(line);
  }
}
