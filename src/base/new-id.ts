/** Human-typable ids: a kind prefix, the UTC time, and random hex. */
import { randomBytes } from 'node:crypto';

export function newId(prefix: string, now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${prefix}-${t}-${randomBytes(3).toString('hex')}`;
}

export const newSnapshotId = () => newId('snap');
