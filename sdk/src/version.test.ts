import { expect, it } from 'vitest';
import pkg from '../package.json';
import { version } from './version.js';

it('reports the version of package.json as context.library.version', () => {
  expect(version).toBe(pkg.version);
});
