/**
 * The id and name rules, as data: ids become folder names in the store, so they are kept to
 * a safe alphabet. Workflow-safe (no Node APIs): the workflows validate with these.
 */
import { z } from 'zod';

export const SAFE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Snapshot, replay and schedule ids. */
export const SafeId = z
  .string()
  .regex(SAFE_ID_PATTERN, 'expected letters, digits, ".", "_", "-" (at most 128)')
  .refine((id) => !id.includes('..'), 'must not contain ".."');

export const ServiceName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, 'expected letters, digits, ".", "_", "-" (at most 63)');

/** A safe id derived from any text (a workflow id with `:` from a schedule, say). */
export function toSafeId(text: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '');
  return cleaned.slice(0, 128) || 'run';
}

/** Ids become folder names: refuse anything that could escape the store. */
export function isSafeId(id: string): boolean {
  return SAFE_ID_PATTERN.test(id) && !id.includes('..');
}
