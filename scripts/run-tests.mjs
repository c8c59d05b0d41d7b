#!/usr/bin/env node
// Runs every compiled `*.test.js` under dist/test with Node's test runner, one file at a time
// (the tests start real servers and processes). Node 20's runner takes no globs, and given a
// folder it would also run the helper modules beside the tests. Extra arguments pass through.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const files = findTests('dist/test').sort();
// Per file: a Kubernetes test file waits through several rollouts and deletions (minutes).
const args = ['--test', '--test-concurrency=1', '--test-timeout=600000', ...process.argv.slice(2), ...files];
const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(status ?? 1);
