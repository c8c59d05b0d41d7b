import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { analyzeReplay } from '../../src/analyzer/index.js';
import { Report, REPORT_VERSION } from '../../src/report/schema.js';
import { readReport, writeReport } from '../../src/report/write.js';
import { scenario } from './scenario.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every object field name in the schema, nested ones included. */
function fieldNames(schema: z.ZodType, out = new Set<string>()): Set<string> {
  const def = (
    schema as unknown as {
      def: { type: string; element?: z.ZodType; innerType?: z.ZodType; valueType?: z.ZodType };
    }
  ).def;
  if (schema instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(schema.shape)) {
      out.add(k);
      fieldNames(v as z.ZodType, out);
    }
  } else if (def.element) fieldNames(def.element, out);
  else if (def.innerType) fieldNames(def.innerType, out);
  else if (def.valueType) fieldNames(def.valueType, out);
  return out;
}

describe('report.json schema', () => {
  test("the analyzer's report validates", async () => {
    const report = await analyzeReplay(scenario());
    const parsed = Report.parse(report);
    assert.equal(parsed.reportVersion, REPORT_VERSION);
    assert.deepEqual(parsed, report, 'nothing stripped: the analyzer emits exactly the schema');
  });

  test('a malformed report fails with the field path', async () => {
    const report = await analyzeReplay(scenario());
    const bad = { ...report, summary: { ...report.summary, successRate: 140 } };
    const result = Report.safeParse(bad);
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0].path, ['summary', 'successRate']);
    assert.equal(Report.safeParse({ ...report, reportVersion: 2 }).success, false);
  });

  test('docs/report-schema.md documents every field', async () => {
    const doc = await readFile(path.join(repoRoot, 'docs/report-schema.md'), 'utf8');
    const missing = [...fieldNames(Report)].filter((k) => !doc.includes(`\`${k}\``));
    assert.deepEqual(missing, []);
  });
});

describe('writeReport', () => {
  test('writes report.json and report.html atomically and reads back', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reprise-report-'));
    try {
      const report = await analyzeReplay(scenario());
      const out = path.join(dir, 'replays', 'rp-1');
      const files = await writeReport(out, report);
      assert.deepEqual((await readdir(out)).sort(), ['report.html', 'report.json'], 'no temp file left');
      assert.deepEqual(JSON.parse(await readFile(files.json, 'utf8')), report);
      assert.match(await readFile(files.html, 'utf8'), /^<!doctype html>/);
      assert.deepEqual(await readReport(out), report);
      await writeReport(out, { ...report, verdict: 'Passed' });
      assert.equal((await readReport(out)).verdict, 'Passed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('refuses an invalid report and leaves nothing behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reprise-report-'));
    try {
      const report = await analyzeReplay(scenario());
      await assert.rejects(writeReport(dir, { ...report, verdict: 'Maybe' as never }), /verdict/);
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
