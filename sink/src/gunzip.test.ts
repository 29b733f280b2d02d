import { gunzipSync, gzipSync } from 'node:zlib';
import kafkajs from 'kafkajs';
import { expect, it } from 'vitest';
import { useFastGunzip } from './gunzip.js';

type Codec = {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};
const codecs = kafkajs.CompressionCodecs as Record<number, () => Codec>;
const gzip = kafkajs.CompressionTypes.GZIP;
// Larger than one 1 MiB output chunk, so the decompression has to join chunks.
const text = Buffer.from(
  Array.from({ length: 40_000 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i % 97)}"}\n`).join(''),
);

it('decompresses what any gzip producer wrote, in one piece', async () => {
  useFastGunzip();
  const codec = codecs[gzip]?.();
  expect((await codec?.decompress(gzipSync(text, { level: 1 })))?.equals(text)).toBe(true);
  expect(gunzipSync((await codec?.compress({ buffer: text })) ?? Buffer.alloc(0)).equals(text)).toBe(true);
});

it('keeps the compression registered before it, as the gateway registers its own level in a shared process', async () => {
  const marker = Buffer.from('compressed by the registered codec');
  const before: Codec = { compress: async () => marker, decompress: async () => Buffer.alloc(0) };
  codecs[gzip] = () => before;
  useFastGunzip();
  const codec = codecs[gzip]?.();
  expect(await codec?.compress({ buffer: text })).toBe(marker);
  expect((await codec?.decompress(gzipSync(text)))?.equals(text)).toBe(true);
});
