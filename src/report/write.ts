/** Writes a replay's report.json and report.html atomically (temp file, fsync, rename). */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { renderReportHtml } from './html.js';
import { Report } from './schema.js';

export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Validates the report (a bad one fails here, with the field path) and writes both files. */
export async function writeReport(dir: string, report: Report): Promise<{ json: string; html: string }> {
  const valid = Report.parse(report);
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, REPORT_JSON);
  const html = path.join(dir, REPORT_HTML);
  await writeAtomic(json, `${JSON.stringify(valid, null, 2)}\n`);
  await writeAtomic(html, renderReportHtml(valid));
  return { json, html };
}

/** Reads and validates a report.json (e.g. the baseline of a regression run). */
export async function readReport(dir: string): Promise<Report> {
  return Report.parse(JSON.parse(await readFile(path.join(dir, REPORT_JSON), 'utf8')));
}
