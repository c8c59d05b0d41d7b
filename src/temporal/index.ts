/** Temporal helpers: the CLI binary, dev servers, which server a command uses, shared names. */
export { ensureTemporalBinary } from './binary.js';
export { DEFAULT_NAMESPACE, ensureSearchAttributes, serverFromEnv, type ServerOptions } from './connect.js';
export { freePort, startDevServer, type DevServer, type DevServerOptions } from './dev-server.js';
export * from './names.js';
export { findServer, resolveTemporal, type ResolvedTemporal, type ResolveOptions } from './resolve.js';
export { clearUpState, readUpState, upStateFile, writeUpState, UpState } from './up-state.js';
// workflow-bundle.ts is left out on purpose: it loads the worker SDK, which clients never need.
