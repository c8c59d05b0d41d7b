/** Which recorded pairs are kept: rules as data, compiled once into a predicate. */
import { loadRulesFile } from '../base/rules-file.js';
import { FilterRules } from './rules.js';

export { Condition, FilterRules, HeaderCondition, StatusPattern, type FilterRulesInput } from './rules.js';
export { DEFAULT_EXCLUDES, DEFAULT_FILTERS, effectiveFilterRules } from './defaults.js';
export { compileFilter, type PairFilter } from './compile.js';
export { compileCondition, type PairPredicate } from './match.js';

export const loadFilterRules = (file: string): Promise<FilterRules> => loadRulesFile(file, FilterRules);
