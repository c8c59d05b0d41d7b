/** Reads a JSON or YAML rules file (YAML is a superset of JSON) and validates it with a schema. */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { z } from 'zod';

export class RulesFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'RulesFileError';
  }
}

/** One `path: message` per issue, so a bad rule names the field. */
export function describeZodIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

export async function loadRulesFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let data: unknown;
  try {
    data = parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RulesFileError(file, (err as Error).message);
  }
  const parsed = schema.safeParse(data ?? {});
  if (!parsed.success) throw new RulesFileError(file, describeZodIssues(parsed.error));
  return parsed.data;
}
