import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { repriseBin, runCli } from '../helpers/cli.js';

const har = {
  log: {
    version: '1.2',
    creator: { name: 'test', version: '1' },
    entries: [
      {
        startedDateTime: '2026-11-29T10:00:00.000Z',
        time: 12,
        request: {
          method: 'POST',
          url: 'http://shop.local:8080/orders?customer=ada&limit=5',
          httpVersion: 'HTTP/1.1',
          headers: [
            { name: 'Host', value: 'shop.local:8080' },
            { name: 'Content-Type', value: 'application/json' },
          ],
          queryString: [
            { name: 'customer', value: 'ada' },
            { name: 'limit', value: '5' },
          ],
          cookies: [],
          postData: { mimeType: 'application/json', text: '{"sku":"sku-1","qty":2}' },
          headersSize: -1,
          bodySize: 23,
        },
        response: {
          status: 201,
          statusText: 'Created',
          httpVersion: 'HTTP/1.1',
          headers: [{ name: 'Content-Type', value: 'application/json' }],
          cookies: [],
          content: { size: 16, mimeType: 'application/json', text: '{"id":"ord-1"}' },
          redirectURL: '',
          headersSize: -1,
          bodySize: 16,
        },
        cache: {},
        timings: { send: 1, wait: 10, receive: 1 },
      },
    ],
  },
};

async function home() {
  return { REPRISE_HOME: await mkdtemp(path.join(tmpdir(), 'reprise-cli-')) };
}

test('snapshot import, ls, show, export and rm follow the CLI contract', async () => {
  const env = await home();
  const file = path.join(env.REPRISE_HOME, 'in.har');
  await writeFile(file, JSON.stringify(har));

  const imported = await runCli(['snapshot', 'import', file, '--service', 'shop', '--json'], env);
  assert.equal(imported.code, 0, imported.stderr);
  const { snapshotId, pairs } = JSON.parse(imported.stdout);
  assert.equal(pairs, 1);
  assert.match(snapshotId, /^snap-/);

  const ls = await runCli(['snapshot', 'ls', '--json'], env);
  assert.equal(ls.code, 0, ls.stderr);
  const list = JSON.parse(ls.stdout);
  assert.deepEqual(Object.keys(list[0]).sort(), ['createdAt', 'id', 'pairs', 'service']);
  assert.equal(list[0].id, snapshotId);
  assert.equal(list[0].service, 'shop');

  const show = await runCli(['snapshot', 'show', snapshotId, '--json'], env);
  assert.equal(show.code, 0, show.stderr);
  assert.equal(JSON.parse(show.stdout).counts.inbound, 1);

  const exported = await runCli(['snapshot', 'export', snapshotId, '--har'], env);
  assert.equal(exported.code, 0, exported.stderr);
  const entry = JSON.parse(exported.stdout).log.entries[0];
  assert.equal(entry.request.url, har.log.entries[0].request.url);
  assert.equal(entry.request.postData.text, har.log.entries[0].request.postData.text);

  const out = path.join(env.REPRISE_HOME, 'out.har');
  const toFile = await runCli(['snapshot', 'export', snapshotId, '--har', '-o', out], env);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(JSON.parse(await readFile(out, 'utf8')).log.entries.length, 1);

  const rm = await runCli(['snapshot', 'rm', snapshotId], env);
  assert.equal(rm.code, 0, rm.stderr);
  const after = await runCli(['snapshot', 'ls', '--json'], env);
  assert.deepEqual(JSON.parse(after.stdout), []);
});

test('an unknown snapshot fails with exit code 1 and names it', async () => {
  const env = await home();
  const res = await runCli(['snapshot', 'show', 'snap-nope'], env);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /snap-nope.*not found/);
});

test('bad usage exits 2 and names the flag; --help exits 0', async () => {
  const env = await home();
  const missing = await runCli(['snapshot', 'export', 'snap-x'], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--har/);

  const badService = await runCli(['snapshot', 'import', 'x.har', '--service', 'no spaces!'], env);
  assert.equal(badService.code, 2);
  assert.match(badService.stderr, /--service/);

  const unknown = await runCli(['snapshot', 'frobnicate'], env);
  assert.equal(unknown.code, 2);

  for (const args of [['--help'], ['snapshot', '--help'], ['snapshot', 'ls', '--help']]) {
    const help = await runCli(args, env);
    assert.equal(help.code, 0, `reprise ${args.join(' ')}`);
    assert.match(help.stdout, /Usage: reprise/);
  }
});

test('a HAR that is not JSON is refused with the file named', async () => {
  const env = await home();
  const file = path.join(env.REPRISE_HOME, 'bad.har');
  await writeFile(file, '<html>not a har</html>');
  const res = await runCli(['snapshot', 'import', file, '--json'], env);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /bad\.har: not valid JSON/);
  assert.equal(res.stdout, '');
});

test('a reader that closes the pipe early ends an export quietly (exit 0, nothing on stderr)', async () => {
  const env = await home();
  const file = path.join(env.REPRISE_HOME, 'in.har');
  await writeFile(file, JSON.stringify(har));
  const imported = await runCli(['snapshot', 'import', file, '--json'], env);
  const { snapshotId } = JSON.parse(imported.stdout);
  // As `| head -c 0` does: the read end is closed before the command writes anything.
  const child = spawn(process.execPath, [repriseBin, 'snapshot', 'export', snapshotId, '--har'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  const [code] = await once(child, 'close');
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
