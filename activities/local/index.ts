/** The local runtime: captures as processes on this machine. */
export { LocalRuntime, type LocalRuntimeOptions } from './runtime.js';
