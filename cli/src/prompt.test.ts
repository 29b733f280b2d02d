import { expect, it } from 'vitest';
import { joinHistory } from './prompt.js';

it('puts a statement typed over several lines back into the history as one entry', () => {
  // readline's history after typing SELECT 1; then the statement (the blank line is not recorded).
  const history = ['AS views;', 'SELECT count()', 'SELECT 1;'];
  joinHistory(history, ['SELECT count()', '', 'AS views;']);
  expect(history).toEqual(['SELECT count() AS views;', 'SELECT 1;']);
});

it('leaves the history alone when its newest entries are not the statement', () => {
  const history = ['something else', 'SELECT 1;'];
  joinHistory(history, ['SELECT count()', 'AS views;']);
  expect(history).toEqual(['something else', 'SELECT 1;']);
  const single = ['SELECT 2;'];
  joinHistory(single, ['SELECT 2;']);
  expect(single).toEqual(['SELECT 2;']);
});
