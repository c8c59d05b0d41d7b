/** HAR 1.2 import and export. */
export { HarFormatError } from './errors.js';
export {
  readHar,
  harToPairs,
  importHar,
  importHarFile,
  type HarImportOptions,
  type HarDocument,
} from './import.js';
export { writeHar, exportHar } from './export.js';
export { entryToPair } from './entry-to-pair.js';
export { pairToEntry } from './pair-to-entry.js';
