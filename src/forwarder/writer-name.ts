/**
 * A forwarder's name in the parts it writes of a shared recording: REPRISE_WRITER, or the host
 * name (the pod name in a cluster) plus a random suffix, so a restarted pod never reuses the
 * name of the one it replaces. Only letters, digits, `_`, `.` and `-` (a part's file name).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

const UNSAFE = /[^A-Za-z0-9_.-]+/g;

export function writerName(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.REPRISE_WRITER?.trim();
  const base =
    (given || hostname())
      .replace(UNSAFE, '_')
      .replace(/[.-]{2,}/g, '-')
      .replace(/^[.-]+|[.-]+$/g, '')
      .slice(0, 60) || 'forwarder';
  return given ? base : `${base}-${randomBytes(3).toString('hex')}`;
}
