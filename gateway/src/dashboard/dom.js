// The few DOM helpers every part of the page uses.

export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The value of an input or select by id. */
export const fieldValue = (id) => /** @type {HTMLInputElement} */ ($(id)).value;

/** `<option value=…>` for a datalist. */
export const option = (value) => Object.assign(document.createElement('option'), { value });

/** A table row of `cell` elements; a value may be a node (a filter button), anything else becomes text. */
export function tr(values, cell = 'td') {
  const row = document.createElement('tr');
  for (const value of values) {
    const c = document.createElement(cell);
    if (value instanceof Node) c.append(value);
    else c.textContent = String(value);
    row.append(c);
  }
  return row;
}
