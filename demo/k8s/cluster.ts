/**
 * The demo's cluster: the dev cluster with a real node in `dir` (`.cluster`, the one
 * `npm run cluster:up` makes), started detached when it is not running, or reused, with the
 * demo's images in its node and the chart installed against its Temporal.
 */
import { readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/base/project-root.js';
import { attachDevCluster, type AttachedCluster } from '../../tools/dev-cluster/attach.js';
import { probeReady, startDevCluster } from '../../tools/dev-cluster/cluster.js';
import { readState } from '../../tools/dev-cluster/state.js';
import { teardown } from '../../tools/dev-cluster/teardown.js';
import { kubectlOk } from './app.js';
import type { DemoImages } from './images.js';
import { RELEASE, RELEASE_NS } from './snapshot.js';

/** What was last imported (archive real paths and times): unchanged archives are not imported again. */
const importedFile = (dir: string) => path.join(dir, 'demo-images.json');
const archiveIds = (archives: string[]) =>
  archives.map((a) => `${realpathSync(a)} ${statSync(a).mtimeMs}`).sort();

export async function ensureDemoCluster(
  dir: string,
  images: DemoImages,
  say: (line: string) => void,
): Promise<{ cluster: AttachedCluster; started: boolean; repriseChanged: boolean }> {
  const ids = archiveIds(images.archives);
  if (await probeReady(dir)) {
    const cluster = await attachDevCluster(dir);
    let before: string[] = [];
    try {
      before = JSON.parse(readFileSync(importedFile(dir), 'utf8')) as string[];
    } catch {
      // First demo run in a cluster `up` made.
    }
    const fresh = images.archives.filter((_, i) => !before.includes(archiveIds([images.archives[i]])[0]));
    if (fresh.length) {
      say(`importing ${fresh.length} image archive(s) into the running node`);
      await cluster.importImages(fresh);
    }
    writeFileSync(importedFile(dir), JSON.stringify(ids));
    return { cluster, started: false, repriseChanged: fresh.includes(images.reprise.archive) };
  }
  if (readState(dir)) {
    say(`clearing a dev cluster in ${dir} that is not healthy`);
    await teardown(dir, { removeDir: true });
  }
  say(`starting a dev cluster with a real node in ${dir} (it stays up; npm run cluster:down removes it)`);
  await startDevCluster({ dir, node: 'real', images: images.archives, keep: true, detach: true });
  writeFileSync(importedFile(dir), JSON.stringify(ids));
  return { cluster: await attachDevCluster(dir), started: true, repriseChanged: false };
}

/** `helm upgrade --install` (idempotent) against this cluster's Temporal; waits for every Deployment. */
export async function installChart(
  cluster: AttachedCluster,
  images: DemoImages,
  temporalAddress: string,
  restart: boolean,
): Promise<void> {
  const sets = {
    'image.repository': images.reprise.repository,
    'image.tag': images.reprise.tag,
    'image.pullPolicy': 'Never',
    'temporal.address': temporalAddress,
    'sidecar.initImage': images.init,
  };
  const r = await cluster.helm(
    [
      ...['upgrade', '--install', RELEASE, path.join(projectRoot, 'charts/reprise')],
      ...['--namespace', RELEASE_NS, '--create-namespace'],
      ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(`helm upgrade --install failed: ${(r.stderr + r.stdout).trim()}`);
  // Same tag, new build: the pods must start from the new image.
  if (restart) await kubectlOk(cluster, ['rollout', 'restart', 'deployment', '-n', RELEASE_NS]);
  const names = await kubectlOk(cluster, ['get', 'deploy', '-n', RELEASE_NS, '-o', 'name']);
  for (const name of names.trim().split('\n').filter(Boolean))
    await kubectlOk(cluster, ['rollout', 'status', name, '-n', RELEASE_NS, '--timeout=300s']);
}
