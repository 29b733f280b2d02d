// How many terminal columns a string takes. A table lines up only if every cell is measured the way the terminal
// draws it: CJK ideographs and emoji take two columns, combining marks and joiners none. This follows Unicode's
// East Asian Width (UAX #11) for the common wide blocks, not every code point; a rare wide character outside
// them shifts its row by one column, no more.

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Code point ranges drawn two columns wide: Hangul Jamo, CJK, Hangul syllables, fullwidth forms, emoji. */
const wide: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x23e9, 0x23ec],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x26a1, 0x26a1],
  [0x26bd, 0x26be],
  [0x26f5, 0x26f5],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x2753, 0x2755],
  [0x2795, 0x2797],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

function isWide(cp: number): boolean {
  for (const [lo, hi] of wide) {
    if (cp < lo) return false;
    if (cp <= hi) return true;
  }
  return false;
}

// Marks, format characters (zero-width joiner, variation selectors' neighbours) and controls draw nothing.
const zeroWidth = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;

/** Columns one grapheme cluster takes: 0, 1 or 2. */
function clusterWidth(cluster: string): number {
  const first = cluster.codePointAt(0) ?? 0;
  if (isWide(first)) return 2;
  // U+FE0F asks for the emoji presentation of a character that is text-wide by default (❤️, ☀️).
  if (cluster.includes('\uFE0F') && /\p{Extended_Pictographic}/u.test(cluster)) return 2;
  for (const ch of cluster) if (!zeroWidth.test(ch)) return 1;
  return 0;
}

/** The width of `text` in terminal columns. */
export function displayWidth(text: string): number {
  // Plain ASCII is by far the most common cell: one column per character, no segmentation needed.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += clusterWidth(segment);
  return width;
}

/**
 * `text` cut to at most `max` columns, ending in an ellipsis when cut. Cuts between grapheme clusters, so an
 * emoji sequence or a letter with its accent is never split.
 */
export function truncate(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  if (max <= 0) return '';
  let out = '';
  let width = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = clusterWidth(segment);
    if (width + w > max - 1) break;
    out += segment;
    width += w;
  }
  return `${out}…`;
}
