// Numbers as the page writes them: one locale (en-US grouping) whatever the browser's, so a figure reads the same
// on every screen and in every screenshot.

export const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
/** A CLS score: three decimals, so that one just over web.dev's 0.1 or 0.25 bound does not read as the bound. */
export const score = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });
export const percent = (v) => `${decimal.format(Number(v) * 100)} %`;

/** Milliseconds as `42 s` or `3 min 5 s`. */
export function duration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
