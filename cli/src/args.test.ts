import { expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.js';

it('splits positionals from --name value and --name=value options, keeping repeats in order', () => {
  const parsed = parseArgs([
    'query',
    'funnel',
    '--steps',
    '/pricing',
    '--steps=Signup Started',
    '--window',
    '3600',
  ]);
  expect(parsed.positionals).toEqual(['query', 'funnel']);
  expect(parsed.options).toEqual([
    ['steps', '/pricing'],
    ['steps', 'Signup Started'],
    ['window', '3600'],
  ]);
});

it('takes an option value that starts with a dash, and -- ends the options', () => {
  const parsed = parseArgs(['sql', '--format', 'csv', '--', '--not-an-option']);
  expect(parsed.options).toEqual([['format', 'csv']]);
  expect(parsed.positionals).toEqual(['sql', '--not-an-option']);
  expect(parseArgs(['--host', '-x']).options).toEqual([['host', '-x']]);
});

it('reads --help and -h as flags', () => {
  expect(parseArgs(['sql', '-h']).flags).toEqual(new Set(['help']));
  expect(parseArgs(['--help']).flags).toEqual(new Set(['help']));
});

it('refuses an option without its value', () => {
  expect(() => parseArgs(['query', 'top_pages', '--limit'])).toThrow(UsageError);
});

it('keeps a statement that starts with a dash-dash comment a positional when it has spaces', () => {
  expect(parseArgs(['sql', '-- a comment\nSELECT 1']).positionals).toEqual(['sql', '-- a comment\nSELECT 1']);
});
