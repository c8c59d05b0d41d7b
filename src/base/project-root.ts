/** The project root (the folder of Reprise's package.json), found from this module's location. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  // Walks up so the answer is the same from src/ (tsx, tests) and from dist/src/ (compiled).
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'reprise'
    )
      return dir;
    if (path.dirname(dir) === dir) throw new Error(`no reprise package.json above ${start}`);
  }
}

export const projectRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));
