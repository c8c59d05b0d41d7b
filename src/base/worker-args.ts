/**
 * A worker's command-line arguments. Started with `--standby` as its only argument, a worker
 * loads its modules and waits: its arguments come later as one JSON array on a line of stdin
 * (activities/local/standby.ts keeps such a warm process per worker, so a replay does not wait
 * for Node to load a worker's modules). Until then, stdin closing (its keeper gone) ends it.
 */
export const STANDBY_FLAG = '--standby';

/** The event of the line a standby prints on stdout (its log) once it has loaded and warmed up. */
export const STANDBY_READY_EVENT = 'standby-ready';

/** The longest argument line a standby reads. */
const MAX_LINE = 1024 * 1024;

/**
 * The arguments; a standby waits for them, doing `whileWaiting` meanwhile (work that does not
 * depend on them; its failure is left for the real start to meet and report).
 */
export async function workerArgs(
  argv: string[] = process.argv.slice(2),
  whileWaiting: () => Promise<unknown> = async () => undefined,
): Promise<string[]> {
  if (argv.length !== 1 || argv[0] !== STANDBY_FLAG) return argv;
  let taken = false;
  const warming = whileWaiting()
    .catch(() => undefined)
    // Whoever waits for a warm standby can tell from its log; once taken, the log is the run's.
    .then(() => taken || process.stdout.write(JSON.stringify({ event: STANDBY_READY_EVENT }) + '\n'));
  const line = await new Promise<string>((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end === -1 && text.length <= MAX_LINE) return;
      taken = true;
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.destroy();
      resolve(end === -1 ? '' : text.slice(0, end));
    };
    // Nobody will ever hand this standby its arguments.
    const onEnd = () => process.exit(0);
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
  });
  await warming;
  const args = parseArgsLine(line);
  if (!args) {
    process.stderr.write(`${STANDBY_FLAG}: expected one line with a JSON array of strings\n`);
    process.exit(2);
  }
  return args;
}

function parseArgsLine(line: string): string[] | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return Array.isArray(value) && value.every((a) => typeof a === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}
