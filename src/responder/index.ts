/** The responder: answers the outbound calls of the service under test from a snapshot's recording. */
export {
  startResponder,
  type Responder,
  type ResponderOptions,
  type ResponderConfigInput,
} from './server.js';
export { ADMIN_HEALTH, ADMIN_PREFIX, ADMIN_STATS } from './answers.js';
export { MATCH_HEADER, TRUNCATED_HEADER } from './recorded-reply.js';
export { DEFAULT_MAX_MISSES } from './match-log.js';
export { buildIndex, RecordedIndex, type IndexSummary } from './recorded-index.js';
export {
  compileSignatureRules,
  sign,
  signRecorded,
  type Signature,
  type SignatureRules,
} from './signature.js';
