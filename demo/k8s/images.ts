/**
 * The images the demo runs, built (or found cached under .tools) by the project's scripts:
 * Reprise (`npm run image`), the Java demo (scripts/java-demo/image.sh: java-server,
 * java-client and payments in one jlinked image) and the transparent mode's iptables init
 * image (scripts/cluster/test-images.sh).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/base/project-root.js';
import { ensureImage, type RepriseImage } from '../../tools/dev-cluster/image.js';

export interface DemoImages {
  reprise: RepriseImage;
  /** localhost/reprise-java-demo:<hash> */
  java: string;
  /** localhost/reprise-iptables:1 */
  init: string;
  /** Every OCI archive, for the node. */
  archives: string[];
  /** The Java demo build folder (jars, payments.pem). */
  javaBuild: string;
}

export const INIT_IMAGE = 'localhost/reprise-iptables:1';

function script(relative: string): string[] {
  const file = path.join(projectRoot, relative);
  const run = spawnSync('bash', [file], { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    const tail = `${run.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${relative} failed (${run.error?.message ?? `exit ${run.status}`}):\n${tail}`);
  }
  return run.stdout.trim().split('\n');
}

export function ensureDemoImages(): DemoImages {
  const reprise = ensureImage();
  const [javaArchive, java] = script('scripts/java-demo/image.sh').slice(-2);
  const init = script('scripts/cluster/test-images.sh').find((f) => f.endsWith('/iptables.oci.tar'));
  if (!init) throw new Error('scripts/cluster/test-images.sh printed no iptables.oci.tar');
  const javaBuild = script('scripts/java-demo/build.sh').pop()!;
  return { reprise, java, init: INIT_IMAGE, archives: [reprise.archive, javaArchive, init], javaBuild };
}
