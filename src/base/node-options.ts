/**
 * V8 flags every launcher gives the data-plane workers: the local runtime and the bench through
 * NODE_OPTIONS, the Kubernetes runtime on the container's command line, and the chart in the
 * forwarder's NODE_OPTIONS (charts/reprise/templates/forwarder.yaml). Both were measured with
 * `npm run bench`.
 */
export const WORKER_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  // A small young generation keeps the forwarder's peak RSS flat under sustained ingest. V8 otherwise
  // grows it to 16 MB+ per semi-space: 1.66x RSS at 1M pairs vs 10k, under 1.5x with this.
  forwarder: ['--max-semi-space-size=4'],
  // A large one for the responder. Its heap holds every recorded response, and with the default
  // one the per-request garbage promoted into that big old generation cost 10-35% more CPU per
  // request with 100,000 pairs than with 10 (responder-100k-vs-10).
  responder: ['--max-semi-space-size=32'],
};

export const workerNodeFlags = (worker: string): string[] => [...(WORKER_NODE_FLAGS[worker] ?? [])];

/** `env` with the worker's flags appended to its NODE_OPTIONS (what is already set there is kept). */
export function workerEnv(worker: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, ...workerNodeOptions(worker, env.NODE_OPTIONS) };
}

/** Just the NODE_OPTIONS entry to add for `worker` (none when it has no flags). */
export function workerNodeOptions(
  worker: string,
  current = process.env.NODE_OPTIONS,
): { NODE_OPTIONS?: string } {
  const flags = workerNodeFlags(worker);
  return flags.length ? { NODE_OPTIONS: [current, ...flags].filter(Boolean).join(' ') } : {};
}
