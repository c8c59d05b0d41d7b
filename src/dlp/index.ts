/** Data loss prevention: secrets in recorded traffic become deterministic tokens before storage. */
import { loadRulesFile } from '../base/rules-file.js';
import { DlpRules } from './rules.js';

export {
  DEFAULT_DLP_RULES,
  DEFAULT_EXEMPT_HEADERS,
  DEFAULT_HEADER_RULES,
  DEFAULT_KEY_RULES,
  DETECTORS,
  DetectorKind,
  DlpRules,
  KeyRule,
  type DlpRulesInput,
} from './rules.js';
export { createMasker, type Masker } from './masker.js';
export { loadOrCreateDlpKey, dlpKeyPath } from './key-file.js';
export { isToken, TOKEN_PREFIX, type MaskStats } from './tokens.js';
export { luhnValid } from './detectors.js';

export const loadDlpRules = (file: string): Promise<DlpRules> => loadRulesFile(file, DlpRules);
