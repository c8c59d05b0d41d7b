/**
 * The floors of docs/architecture.md are kept by lint (eslint.config.js): the project's own
 * config, through ESLint's Node API, on snippets placed where they would live. Each forbidden
 * import is reported by the rule that keeps that floor; the allowed ones beside it are not.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';
import { projectRoot } from '../../src/base/project-root.js';

let eslint: ESLint;

/** Rule ids and messages ESLint reports for `code` as if it were the file `file`. */
async function lint(file: string, code: string): Promise<{ rule: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(projectRoot, file) });
  return result.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

async function assertForbidden(file: string, code: string, rule: string, message: RegExp): Promise<void> {
  const found = await lint(file, code);
  assert.ok(
    found.some((m) => m.rule === rule && message.test(m.message)),
    `${file}: expected ${rule} ${message}, got ${JSON.stringify(found)}`,
  );
}

async function assertAllowed(file: string, code: string): Promise<void> {
  assert.deepEqual(await lint(file, code), [], file);
}

describe('import floors (eslint.config.js)', () => {
  before(() => {
    eslint = new ESLint({ cwd: projectRoot });
  });

  test('the core never imports a process entry point, the CLI, workflows, activities or test tooling', async () => {
    await assertForbidden(
      'src/temporal/example.ts',
      "import { startInProcessWorker } from '../../workers/orchestrator.js';\nexport const w = startInProcessWorker;\n",
      'no-restricted-imports',
      /the core \(src\/, sidecar\/\) never imports cli\/, workers\//,
    );
    // The upward import the restructuring removed was a dynamic one (src/temporal/resolve.ts).
    await assertForbidden(
      'src/temporal/example.ts',
      "export const load = () => import('../../workers/orchestrator.js');\n",
      'no-restricted-syntax',
      /never imports cli\/, workers\//,
    );
    await assertForbidden(
      'sidecar/example.ts',
      "import { makePair } from '../tools/fixtures/pairs.js';\nexport const p = makePair;\n",
      'no-restricted-imports',
      /tools\//,
    );
    await assertAllowed(
      'src/generator/example.ts',
      "import { childLog } from '../base/log.js';\nimport { LoadConfig } from '../config/replay.js';\nexport const x = [childLog, LoadConfig];\n",
    );
  });

  test('src/base imports nothing of the project; src/model only src/base', async () => {
    await assertForbidden(
      'src/base/example.ts',
      "import type { RRPair } from '../model/traffic.js';\nexport type P = RRPair;\n",
      'no-restricted-imports',
      /src\/base imports nothing of the project/,
    );
    await assertAllowed(
      'src/base/example.ts',
      "import { round2 } from './round.js';\nexport const r = round2;\n",
    );
    await assertForbidden(
      'src/model/example.ts',
      "import { LoadConfig } from '../config/replay.js';\nexport const l = LoadConfig;\n",
      'no-restricted-imports',
      /src\/model imports only src\/base/,
    );
  });

  test('src/protocols imports only src/base, src/model and other protocols', async () => {
    await assertForbidden(
      'src/protocols/grpc/example.ts',
      "import { LoadConfig } from '../../config/replay.js';\nexport const l = LoadConfig;\n",
      'no-restricted-imports',
      /src\/protocols \(one folder per protocol\) imports only/,
    );
    await assertForbidden(
      'src/protocols/http2/example.ts',
      "import { createMasker } from '../../dlp/index.js';\nexport const m = createMasker;\n",
      'no-restricted-imports',
      /src\/protocols \(one folder per protocol\) imports only/,
    );
    await assertAllowed(
      'src/protocols/grpc/example.ts',
      [
        "import { encodeBody } from '../../model/body.js';",
        "import { round2 } from '../../base/round.js';",
        "import { HpackDecoder } from '../http2/hpack.js';",
        'export const x = [encodeBody, round2, HpackDecoder];',
        '',
      ].join('\n'),
    );
  });

  test('src/config holds inputs and results: no component below it', async () => {
    await assertForbidden(
      'src/config/example.ts',
      "import { FsSnapshotStore } from '../store/fs-store.js';\nexport const s = FsSnapshotStore;\n",
      'no-restricted-imports',
      /src\/config \(workflow inputs and results\) imports only/,
    );
    await assertAllowed(
      'src/config/example.ts',
      "import { DlpRules } from '../dlp/rules.js';\nimport { SafeId } from '../base/ids.js';\nexport const x = [DlpRules, SafeId];\n",
    );
  });

  test('workflows import pure modules, and activities only as types', async () => {
    await assertForbidden(
      'workflows/example.ts',
      "import { createCaptureActivities } from '../activities/capture.js';\nexport const a = createCaptureActivities;\n",
      'no-restricted-imports',
      /activities only as `import type`/,
    );
    await assertForbidden(
      'workflows/example.ts',
      "import { FsSnapshotStore } from '../src/store/fs-store.js';\nexport const s = FsSnapshotStore;\n",
      'no-restricted-imports',
      /workflows import only pure modules/,
    );
    await assertForbidden(
      'workflows/example.ts',
      "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n",
      'no-restricted-imports',
      /no Node APIs/,
    );
    await assertAllowed(
      'workflows/example.ts',
      [
        "import type { CaptureActivities } from '../activities/capture.js';",
        "import { ReplayInput } from '../src/config/replay.js';",
        "import { parseDuration } from '../src/base/duration.js';",
        "import { TASK_QUEUE } from '../src/temporal/names.js';",
        'export type A = CaptureActivities;',
        'export const x = [ReplayInput, parseDuration, TASK_QUEUE];',
        '',
      ].join('\n'),
    );
  });

  test('activities never import a worker; the Kubernetes API types import no client or webhook', async () => {
    await assertForbidden(
      'activities/local/example.ts',
      "import { startInProcessWorker } from '../../workers/orchestrator.js';\nexport const w = startInProcessWorker;\n",
      'no-restricted-imports',
      /activities\/ never imports workers\//,
    );
    await assertForbidden(
      'src/kube/api/example.ts',
      "import { KubeApi } from '../client/api.js';\nexport const k = KubeApi;\n",
      'no-restricted-imports',
      /src\/kube\/api never imports client\//,
    );
  });

  test('an import cycle is reported', async () => {
    // latency-histogram.ts imports round.ts: round.ts importing it back closes a cycle.
    await assertForbidden(
      'src/base/round.ts',
      "import { LatencyHistogram } from './latency-histogram.js';\nexport const round2 = (v: number) => Math.round(v * 100) / 100;\nexport const h = LatencyHistogram;\n",
      'import-x/no-cycle',
      /Dependency cycle/,
    );
  });
});
