/** The last timestamp used and the counter within it: ids minted in one millisecond still sort in order. */
let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then a 12-bit counter (`rand_a`, RFC 9562 §6.2
 * method 1) and 62 random bits. Ids therefore sort by creation time, also within one millisecond and when
 * the clock steps back, which the queue relies on to send events in the order they were tracked.
 * A dozen lines here instead of a dependency: every script-tag visitor downloads this code.
 */
export function uuidv7(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // Start low in the 12-bit range, so that a burst in this millisecond has room to count up.
    counter = (((bytes[6] as number) << 8) | (bytes[7] as number)) & 0x7ff;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  let ms = lastMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  return Array.from(bytes, (byte) => (byte + 256).toString(16).slice(1))
    .join('')
    .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}
