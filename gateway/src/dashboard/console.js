// The SQL console: one read statement at a time through POST /v1/sql, the answer as the values ClickHouse returned,
// or the code and reason of a refusal. It starts with the statement that answers the counters of the view.

import { ApiError, revoked, sql } from './api.js';
import { $, tr } from './dom.js';
import { decimal, integer } from './format.js';
import { ownParameters, sessionFilter, view } from './view.js';

/** The statement the console was last filled with, to tell it from one the user edited. */
let generatedStatement = '';

const quote = (s) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const box = () => /** @type {HTMLTextAreaElement} */ ($('sql'));

/**
 * A first statement to edit: the visitors and page views of the counters, from the raw events, for the same period
 * and filters, so it answers what the counters show (each event is stored once, DESIGN §6, so no FINAL). Replaced
 * as the view changes until the user edits it.
 */
export function fillStatement(period) {
  if (box().value !== generatedStatement) return;
  const where = [
    `project_id = ${quote(view.project)}`,
    `timestamp >= ${quote(period.from)} AND timestamp < ${quote(period.to)}`,
    "bot_reason = ''",
    ...ownParameters
      .filter((name) => view.filters[name])
      .map((name) => `${name} = ${quote(view.filters[name])}`),
  ];
  const sessions = sessionFilter();
  if (sessions) {
    where.push(
      `reinterpretAsUInt128(sipHash128(session_id)) GLOBAL IN (SELECT session FROM tidemark.filtered_sessions(project = ${quote(view.project)}, ` +
        `from = ${quote(period.from)}, to = ${quote(period.to)}, host = ${quote(view.filters.host)}, ` +
        `country = ${quote(view.filters.country)}, device_type = ${quote(view.filters.device_type)}, ` +
        `filter = ${quote(sessions)}))`,
    );
  }
  generatedStatement = `SELECT uniqExact(anonymous_id) AS visitors, countIf(type = 'page') AS pageviews\nFROM events\nWHERE ${where.join('\n  AND ')}`;
  box().value = generatedStatement;
  fitStatement();
}

/** The box as tall as its statement, within reason. */
function fitStatement() {
  box().rows = Math.min(20, Math.max(4, box().value.split('\n').length + 1));
}

/** Runs the console's statement and shows the answer as returned, or the server's refusal. */
async function runStatement(event) {
  event.preventDefault();
  const status = $('console-status');
  const result = $('console-result');
  status.classList.remove('error');
  status.textContent = 'Running…';
  try {
    const answer = await sql(box().value);
    const head = document.createElement('thead');
    head.append(
      tr(
        answer.columns.map((c) => c.name),
        'th',
      ),
    );
    const body = document.createElement('tbody');
    // Values as ClickHouse answered them (64-bit integers arrive as strings, exact): a console shows data, not
    // formatted figures.
    body.append(
      ...answer.rows.map((row) =>
        tr(row.map((v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : v))),
      ),
    );
    result.replaceChildren(head, body);
    const rows = answer.rows.length;
    status.textContent = `${integer.format(rows)} ${rows === 1 ? 'row' : 'rows'} in ${decimal.format(answer.elapsedMs)} ms, ${integer.format(answer.rowsRead)} read`;
  } catch (e) {
    if (revoked(e)) return;
    result.replaceChildren();
    status.classList.add('error');
    status.textContent =
      e instanceof ApiError ? `${e.code}: ${e.message}` : `The gateway did not answer (${e.message}).`;
  }
}

export function wireConsole() {
  $('console').addEventListener('submit', runStatement);
  $('sql').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey))
      /** @type {HTMLFormElement} */ ($('console')).requestSubmit();
  });
  $('sql').addEventListener('input', fitStatement);
}
