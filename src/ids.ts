/** Human-typable ids: a kind prefix, the UTC time, and random hex. */
import { randomBytes } from 'node:crypto';

export function newId(prefix: string, now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${prefix}-${t}-${randomBytes(3).toString('hex')}`;
}

export const newSnapshotId = () => newId('snap');

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Ids become folder names: refuse anything that could escape the store. */
export function isSafeId(id: string): boolean {
  return ID_PATTERN.test(id) && !id.includes('..');
}
