/**
 * The load flags (`--rate`, `--speed`, ...) over a config file's `load`, flags winning: one merge
 * for `reprise replay` (cli/replay-input.ts) and the generator process (workers/generator.ts).
 * The result is validated by the caller (ReplayInput or LoadConfig), which names the flag.
 */

/** Load fields a flag can set, flag name by field. */
export const LOAD_FLAGS = {
  rate: 'rate',
  speed: 'speed',
  connections: 'connections',
  duration: 'duration',
  passes: 'passes',
  timeout: 'timeout',
} as const;
export type LoadField = keyof typeof LOAD_FLAGS;

/** The fields whose flag takes a number; the others take text (`2x`, `30s`). */
export const NUMERIC_LOAD_FIELDS: ReadonlySet<string> = new Set<LoadField>(['rate', 'connections', 'passes']);

export type LoadFlagValues = Partial<Record<LoadField, string | number>>;

/** The config file's `load` with every flag that was given put over it. */
export function mergeLoadFlags(fromFile: unknown, flags: LoadFlagValues): Record<string, unknown> {
  const load: Record<string, unknown> = { ...(fromFile as object | undefined) };
  for (const field of Object.keys(LOAD_FLAGS) as LoadField[]) {
    if (flags[field] !== undefined) load[field] = flags[field];
  }
  return load;
}
