/** Reading manifest.json back: schema-checked, with errors that name the snapshot and field. */
import { SnapshotManifest } from '../model/traffic.js';
import { CorruptSnapshotError } from './errors.js';
import { describeIssues } from './issue-path.js';

export const MANIFEST_FILE = 'manifest.json';
export const TRAFFIC_FILE = 'traffic.ndjson.gz';

export function parseManifest(id: string, text: string): SnapshotManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CorruptSnapshotError(id, `${MANIFEST_FILE} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = SnapshotManifest.safeParse(raw);
  if (!parsed.success) {
    throw new CorruptSnapshotError(id, `${MANIFEST_FILE}: ${describeIssues(parsed.error.issues)}`);
  }
  if (parsed.data.id !== id) {
    throw new CorruptSnapshotError(id, `${MANIFEST_FILE}: id: "${parsed.data.id}" does not match its folder`);
  }
  return parsed.data;
}
