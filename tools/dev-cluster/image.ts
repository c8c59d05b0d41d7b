/**
 * Reprise's image for a real node: `npm run image` (scripts/image/build.sh) builds
 * localhost/reprise:<package.json version> with buildah and writes the OCI archive that
 * `startDevCluster({ node: 'real', images: [archive] })` or `cluster.importImages` imports.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/base/project-root.js';

export interface RepriseImage {
  /** `.tools/image/reprise.oci.tar` */
  archive: string;
  /** `localhost/reprise:<version>`: set image.repository and image.tag from it. */
  name: string;
  repository: string;
  tag: string;
}

/**
 * Builds the image unless it is up to date (the script compares what goes into it: a second
 * call returns in about a second); throws with the build's output when it fails.
 */
export function ensureImage(): RepriseImage {
  const script = path.join(projectRoot, 'scripts/image/build.sh');
  const run = spawnSync('bash', [script], {
    encoding: 'utf8',
    timeout: 1_800_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    const tail = `${run.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(
      `\`npm run image\` (${script}) failed (${run.error?.message ?? `exit ${run.status}`}):\n${tail}`,
    );
  }
  const [archive, name] = run.stdout.trim().split('\n').slice(-2);
  const colon = name.lastIndexOf(':');
  return { archive, name, repository: name.slice(0, colon), tag: name.slice(colon + 1) };
}
