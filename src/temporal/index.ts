/** Temporal helpers: the CLI binary, dev servers, finding a running server, shared names. */
export { ensureTemporalBinary } from './binary.js';
export { DEFAULT_NAMESPACE, ensureSearchAttributes, serverFromEnv, type ServerOptions } from './connect.js';
export { freePort, startDevServer, type DevServer, type DevServerOptions } from './dev-server.js';
export * from './names.js';
export { findServer, type FoundServer } from './find-server.js';
export { clearUpState, readUpState, upStateFile, writeUpState, UpState } from './up-state.js';
// workflow-bundle.ts is left out on purpose: it loads the worker SDK, which clients never need.
