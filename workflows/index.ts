/** Every workflow the orchestrator worker registers (task queue `reprise`). */
export * from './capture.js';
export * from './replay.js';
export * from './regression.js';
