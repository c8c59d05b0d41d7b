/**
 * The orchestrator's workflow code as one pre-built bundle (dist/workflow-bundle.js), written
 * by `npm run build` (scripts/bundle-workflows.mjs), so a worker starts without webpack. A
 * bundle older than the compiled modules it contains is rebuilt once and saved again.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleOption } from '@temporalio/worker';
import { childLog } from '../base/log.js';
import { projectRoot } from '../base/project-root.js';

export const workflowsEntry = (root = projectRoot) => path.join(root, 'dist/workflows/index.js');
export const workflowBundleFile = (root = projectRoot) => path.join(root, 'dist/workflow-bundle.js');

/**
 * Whether the bundle is at least as new as every compiled module in it. Webpack names each
 * module by its path (`"./dist/src/config/capture.js"`), so the bundle lists its own inputs.
 */
async function isFresh(root: string, file: string, bundledAt: number): Promise<boolean> {
  const code = await readFile(file, 'utf8');
  const inputs = new Set(code.match(/"\.\/dist\/[^"]+\.js"/g) ?? []);
  if (!inputs.size) return false;
  for (const quoted of inputs) {
    const input = await stat(path.join(root, quoted.slice(1, -1))).catch(() => undefined);
    if (!input || input.mtimeMs > bundledAt) return false;
  }
  return true;
}

async function bundle(root: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsEntry(root),
    logger: new DefaultLogger('WARN'),
  });
  return code;
}

/** Written beside and renamed: a worker starting meanwhile never reads half a bundle. */
async function save(root: string, code: string): Promise<void> {
  const out = workflowBundleFile(root);
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, code);
  await rename(tmp, out);
}

/** Bundles the compiled workflows and saves the bundle; returns its code. */
export async function writeWorkflowBundle(root = projectRoot): Promise<string> {
  const code = await bundle(root);
  await save(root, code);
  return code;
}

/** What Worker.create takes as `workflowBundle`: the saved bundle when fresh, else a new one. */
export async function loadWorkflowBundle(root = projectRoot): Promise<WorkflowBundleOption> {
  const file = workflowBundleFile(root);
  const bundled = await stat(file).catch(() => undefined);
  if (bundled && (await isFresh(root, file, bundled.mtimeMs))) return { codePath: file };
  const log = childLog('temporal');
  log.info(bundled ? 'workflow bundle is older than the build; rebuilding it' : 'bundling workflows (once)');
  const code = await bundle(root);
  // A read-only install still runs, from the bundle in memory.
  await save(root, code).catch((err: Error) =>
    log.warn({ error: err.message }, 'could not save the workflow bundle'),
  );
  return { code };
}
