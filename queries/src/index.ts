export { bindParams, filterProblem } from './bind.js';
export type { QueryErrorCode } from './errors.js';
export { QueryError } from './errors.js';
export type {
  FilterKey,
  FilterParams,
  Interval,
  LoadedQuery,
  QueryName,
  QueryParam,
  QueryParams,
  RangeParams,
} from './library.js';
export {
  filterKeys,
  filterString,
  isQueryName,
  loadQuery,
  parseParams,
  queriesDir,
  queryNames,
  statementFor,
  unfilteredStatement,
} from './library.js';
export type { QueryRunner, RunOptions } from './run.js';
export { runQuery } from './run.js';
