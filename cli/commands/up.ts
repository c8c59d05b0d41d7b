/** `reprise up`: a Temporal dev server with its Web UI and the orchestrator worker, in the foreground. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { repriseHome } from '../../src/base/paths.js';
import { childLog } from '../../src/base/log.js';
import { CliError, UsageError } from '../errors.js';
import { firstLine } from '../failures.js';
import { portFlag } from '../flags.js';
import { notice, printJson, printLine, style } from '../output.js';
import { requirePortFree } from '../preflight.js';
import { logFilePath } from '../log-file.js';
import { untilSignal } from '../signals.js';

export function upCommand(): Command {
  return new Command('up')
    .description('run a Temporal dev server (Web UI included) and the orchestrator worker until Ctrl-C')
    .option('--port <port>', 'Temporal gRPC port', portFlag, 7233)
    .option('--ui-port <port>', 'Temporal Web UI port', portFlag, 8233)
    .option('--json', 'print {"address","namespace","uiUrl"} once ready')
    .action(async (opts: { port: number; uiPort: number; json?: boolean }) => {
      // Loaded here, not at start-up: the SDK's native core makes every other command slower.
      const { clearUpState, findServer, startDevServer, writeUpState } =
        await import('../../src/temporal/index.js');
      const { startInProcessWorker } = await import('../../workers/orchestrator.js');
      const home = repriseHome();
      const existing = await findServer(home, {}).catch(() => undefined);
      if (existing) {
        await existing.connection.close();
        throw new CliError(`a \`reprise up\` server already runs for ${home} at ${existing.server.address}`);
      }
      if (opts.port === opts.uiPort) throw new UsageError('--port and --ui-port must differ');
      await requirePortFree(opts.port, '--port');
      await requirePortFree(opts.uiPort, '--ui-port');
      await mkdir(home, { recursive: true });
      const server = await startDevServer({
        port: opts.port,
        uiPort: opts.uiPort,
        dbFile: path.join(home, 'temporal.db'),
      }).catch((err: Error) => {
        childLog('temporal').error({ err }, 'could not start the Temporal dev server');
        throw new CliError(
          `could not start the Temporal dev server (--port ${opts.port}, --ui-port ${opts.uiPort}): ${firstLine(err.message)}`,
        );
      });
      const worker = await startInProcessWorker({
        address: server.address,
        namespace: server.namespace,
        home,
      });
      await writeUpState(home, {
        address: server.address,
        namespace: server.namespace,
        uiUrl: server.uiUrl,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        logFile: logFilePath(home),
      });
      if (opts.json) printJson({ address: server.address, namespace: server.namespace, uiUrl: server.uiUrl });
      else {
        printLine(`Temporal ${server.address} (namespace ${server.namespace}), store ${home}`);
        printLine(`Web UI  ${style.bold(server.uiUrl ?? '')}`);
        notice(
          `orchestrator worker running on task queue \`reprise\`, logging to ${logFilePath(home)}; Ctrl-C to stop`,
        );
      }
      await untilSignal();
      notice('stopping...');
      await worker.stop();
      await server.stop();
      await clearUpState(home, process.pid);
    });
}
