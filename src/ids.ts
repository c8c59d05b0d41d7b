/** Human-typable ids: a kind prefix, the UTC time, and random hex. */
import { randomBytes } from 'node:crypto';
import { SAFE_ID_PATTERN } from './config/ids.js';

export function newId(prefix: string, now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${prefix}-${t}-${randomBytes(3).toString('hex')}`;
}

export const newSnapshotId = () => newId('snap');

/** Ids become folder names: refuse anything that could escape the store. */
export function isSafeId(id: string): boolean {
  return SAFE_ID_PATTERN.test(id) && !id.includes('..');
}
