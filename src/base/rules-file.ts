/** Reads a JSON or YAML rules file (YAML is a superset of JSON) and validates it with a schema. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { describeZodIssues } from './issues.js';

export class RulesFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'RulesFileError';
  }
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, expected a file',
};

/** Why a file could not be read, in words (`no such file`), for any reader of user files. */
export function describeReadError(err: unknown): string {
  return READ_FAILURES[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;
}

/** The data in a JSON or YAML file (YAML is a superset of JSON). */
export async function readDataFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RulesFileError(file, describeReadError(err));
  }
  // The workers are handed JSON: they start without loading the YAML parser (~0.1 s of startup).
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // YAML, or broken JSON, whose error the YAML parser words better.
  }
  try {
    const { parse } = await import('yaml');
    return parse(text) as unknown;
  } catch (err) {
    // The parser's message ends with a code frame on the next lines; its first line names the place.
    const where = (err as Error).message.split('\n')[0].replace(/:$/, '');
    throw new RulesFileError(file, `not valid JSON or YAML: ${where}`);
  }
}

export async function loadRulesFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  const data = await readDataFile(file);
  const parsed = schema.safeParse(data ?? {});
  if (!parsed.success) throw new RulesFileError(file, describeZodIssues(parsed.error.issues));
  return parsed.data;
}
