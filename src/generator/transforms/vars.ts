/** `${env:NAME}` and `${var:NAME}` references in transform values, resolved once per run. */
import { GeneratorConfigError } from '../errors.js';

export interface ValueSources {
  env: NodeJS.ProcessEnv;
  vars: Record<string, string>;
}

const REF = /\$\{(env|var):([^}]+)\}/g;

export function resolveRefs(value: string, sources: ValueSources, field: string): string {
  return value.replace(REF, (_, kind: string, name: string) => {
    const found = kind === 'env' ? sources.env[name] : sources.vars[name];
    if (found === undefined) {
      throw new GeneratorConfigError(
        field,
        `${kind === 'env' ? 'environment variable' : 'variable'} ${name} is not set`,
      );
    }
    return found;
  });
}
