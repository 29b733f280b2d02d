/** The last millisecond used and the count of ids minted in it: ids of one millisecond still sort in order. */
let lastMs = 0;
let counter = 0;

/** Random bytes fetched 4 KB at a time: one `getRandomValues` call per id was most of the cost of minting it. */
let pool = new Uint8Array();
let used = 0;

/** A random byte. */
function byte(): number {
  if (used >= pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(4096));
    used = 0;
  }
  return pool[used++] as number;
}

/** `count` random hex digits. */
const random = (count: number) => Array.from({ length: count }, () => (byte() & 15).toString(16)).join('');

/**
 * A UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then a 12-bit counter (`rand_a`, RFC 9562 §6.2
 * method 1), the variant and 58 random bits. Ids therefore sort by creation time, also within one millisecond
 * and when the clock steps back, which the queue relies on to send (and drop) events in the order they were
 * tracked. A few lines here instead of a dependency: every script-tag visitor downloads this code.
 */
export function uuidv7(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 4095) {
    lastMs++;
    counter = 0;
  }
  const time = lastMs.toString(16).padStart(12, '0');
  // The variant digit has the top bits 10: 8, 9, a or b.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${counter.toString(16).padStart(3, '0')}-${'89ab'[byte() & 3]}${random(3)}-${random(12)}`;
}

/** When a UUIDv7 was minted: its first 48 bits, Unix milliseconds. */
export const idTime = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
