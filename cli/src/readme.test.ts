import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestTidemark, type TestTidemark } from './gateway.fixture.js';
import { repoRoot, runShell } from './spawn.fixture.js';

// "Ten questions, answered" of docs/queries.md (the README links there) is the test's input: every command there
// runs through sh from the repository's root, exactly as printed, against a gateway holding the dataset the page
// names, and must print exactly the answer printed under it. Editing a command, a query or the dataset without
// the page fails here.

const readme = readFileSync(join(repoRoot, 'docs', 'queries.md'), 'utf8');
const heading = '## Ten questions, answered\n';
const start = readme.indexOf(heading);
const end = readme.indexOf('\n## ', start + heading.length);
const section = start < 0 ? '' : readme.slice(start, end < 0 ? undefined : end);
const now = /`TIDEMARK_NOW=([^`]+)`/.exec(section)?.[1];

interface Question {
  number: number;
  question: string;
  command: string;
  answer: string;
}

// A question in bold, then a console block: `$ command` and the output.
const questions: Question[] = [
  ...section.matchAll(/\*\*(\d+)\. ([^*]+)\*\*\n\n```console\n\$ ([^\n]+)\n([\s\S]*?)```/g),
].map((m) => ({ number: Number(m[1]), question: m[2] ?? '', command: m[3] ?? '', answer: m[4] ?? '' }));

let tidemark: TestTidemark;

beforeAll(async () => {
  tidemark = await startTestTidemark();
});

afterAll(async () => {
  await tidemark?.close();
});

it('has ten numbered questions, each with a command and its answer, and the pinned clock', () => {
  expect(now).toBe('2026-03-19T18:00:00Z');
  expect(questions.map((q) => q.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // The command must be the whole block's first line: every console block of the section is a question.
  expect(section.match(/```console/g)).toHaveLength(10);
  for (const q of questions) expect(q.command).toMatch(/^npx tidemark (query|sql) /);
});

for (const q of questions) {
  describe(`${q.number}. ${q.question}`, () => {
    it('prints the answer docs/queries.md shows', { timeout: 30_000 }, async () => {
      const run = await runShell(q.command, {
        TIDEMARK_URL: tidemark.url,
        TIDEMARK_ADMIN_TOKEN: ADMIN_TOKEN,
        TIDEMARK_NOW: now ?? '',
      });
      expect(run.stderr).toMatch(/\d+ rows? in [\d.]+ m?s\n$/);
      expect(run.stdout).toBe(q.answer);
      expect(run.code).toBe(0);
    });
  });
}
