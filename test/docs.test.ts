import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const pages = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')),
].map((f) => (f.includes('/') || f === 'README.md' || f === 'CONTRIBUTING.md' ? f : `docs/${f}`));

it('keeps the benchmark and chaos tables of docs/ equal to the latest runs they come from', async () => {
  const run = await promisify(execFile)('node', [join(root, 'scripts', 'resultsDocs.mjs'), '--check']).catch(
    (error: { stderr?: string }) => ({ stdout: '', stderr: error.stderr ?? String(error) }),
  );
  expect(run.stderr).toBe('');
});

it('links only to files that exist, from the README and every page of docs/', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)\s]*)?\)/g)) {
      if (target === undefined || /^[a-z]+:/.test(target)) continue;
      if (!existsSync(join(root, dirname(page), target))) broken.push(`${page} → ${target}`);
    }
  }
  expect(broken).toEqual([]);
});
