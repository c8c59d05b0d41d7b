/** `reprise capture`: record an app's traffic into a snapshot through a captureWorkflow. */
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { loadRulesFile, RulesFileError } from '../../src/base/rules-file.js';
import { FilterRules } from '../../src/filters/rules.js';
import { DlpRules } from '../../src/dlp/rules.js';
import { newId } from '../../src/base/new-id.js';
import { parseDuration } from '../../src/base/duration.js';
import {
  CaptureInputError,
  validateCaptureInput,
  type CaptureInput,
  type CaptureProgress,
  type CaptureResult,
} from '../../src/config/capture.js';
import { CliError, UsageError } from '../errors.js';
import { durationFlag, listenPortFlag, portFlag, positiveIntFlag, serviceFlag } from '../flags.js';
import { formatBytes, notice, printJson, printLine, style, warning } from '../output.js';
import { requirePortFree, somethingListens } from '../preflight.js';
import { watchWorkflow } from '../watch.js';
import { firstLine } from '../failures.js';
import { caDir, repriseHome } from '../../src/base/paths.js';
import { jvmCaptureNotice } from '../../src/jvm/local.js';
import {
  connectClusterTemporal,
  namespaceFlag,
  resolveClusterWorkload,
  workloadFlag,
  type ClusterWorkload,
  type WorkloadFlag,
} from '../cluster-workload.js';

interface CaptureOptions {
  /** Absent only with --workload (the workload's first containerPort). */
  appPort?: number;
  appHost: string;
  inPort: number;
  outPort: number;
  /** false with --no-outbound: no forward proxy (the workflow's outPort -1). */
  outbound: boolean;
  service: string;
  duration?: string;
  tlsIntercept?: boolean;
  maxBody?: number;
  filters?: string;
  dlp?: string | false;
  json?: boolean;
  workload?: WorkloadFlag;
  namespace?: string;
}

/** The flag that sets each input field, so a refused value is named as the user typed it. */
const FLAG_FOR_FIELD: Record<string, string> = {
  service: '--service',
  duration: '--duration',
  maxBodyBytes: '--max-body',
  'target.appPort': '--app-port',
  'target.appHost': '--app-host',
  'target.inPort': '--in-port',
  'target.outPort': '--out-port',
};

/** The workflow's own validation, run here first: a value it would refuse fails before any server starts. */
function checkInput(input: CaptureInput): void {
  try {
    validateCaptureInput(input);
  } catch (err) {
    if (!(err instanceof CaptureInputError)) throw err;
    let text = err.message.replace(/^invalid capture input: /, '');
    for (const field of err.fields) {
      const flag = FLAG_FOR_FIELD[field];
      if (flag) text = text.replace(`${field}:`, `${flag} (${field}):`);
    }
    throw new UsageError(`invalid capture: ${text}`);
  }
}

/** Loads and validates a rules file; a bad one is bad usage, named with its field path. */
async function readRules<S extends z.ZodType>(flag: string, file: string, schema: S): Promise<z.output<S>> {
  try {
    return await loadRulesFile(file, schema);
  } catch (err) {
    if (err instanceof RulesFileError) throw new CliError(`${flag} ${err.message}`, 2);
    throw err;
  }
}

export function captureCommand(): Command {
  return new Command('capture')
    .description('record the traffic of an app on this machine into a snapshot (until --duration or Ctrl-C)')
    .option(
      '--app-port <port>',
      "the app's own port (the sidecar forwards to it); with --workload, default its first containerPort",
      portFlag,
    )
    .option(
      '--workload <kind/name>',
      'capture a workload of the cluster in KUBECONFIG (deploy/NAME, sts/NAME, ds/NAME) through its Reprise chart',
      workloadFlag,
    )
    .option(
      '-n, --namespace <namespace>',
      "the --workload's namespace (default: the kubeconfig context's, else default)",
      namespaceFlag,
    )
    .option('--app-host <host>', "the app's host", '127.0.0.1')
    .option(
      '--in-port <port>',
      'where clients send traffic instead of the app port (0: any free port)',
      listenPortFlag,
      4143,
    )
    .option(
      '--out-port <port>',
      "the app's HTTP_PROXY / HTTPS_PROXY port (0: any free port)",
      listenPortFlag,
      4140,
    )
    .addOption(
      new Option('--no-outbound', "record inbound traffic only: no proxy for the app's own calls").conflicts([
        'outPort',
        'tlsIntercept',
      ]),
    )
    .option('--service <name>', 'service name recorded with the traffic', serviceFlag, 'app')
    .option(
      '--duration <duration>',
      'stop after this long (30s, 5m, 1h); default: until Ctrl-C',
      durationFlag,
    )
    .option(
      '--tls-intercept',
      'decrypt outbound HTTPS (CONNECT) with the Reprise CA ($REPRISE_HOME/ca/ca.pem)',
    )
    .option('--max-body <bytes>', 'record bodies up to this size, then mark them truncated', positiveIntFlag)
    .option('--filters <file>', 'filter rules (JSON or YAML) instead of the defaults')
    .addOption(new Option('--dlp <file>', 'DLP rules (JSON or YAML) instead of the defaults'))
    .option('--no-dlp', 'store secrets unmasked (not recommended)')
    .option('--json', 'print {"snapshotId","pairs","dropped","bytes","workflowId"} at the end')
    .action(async (opts: CaptureOptions) => {
      if (opts.appPort === undefined && !opts.workload)
        throw new UsageError(
          'missing the required option --app-port <port>, or --workload deploy/NAME for a cluster workload',
        );
      if (opts.namespace && !opts.workload) throw new UsageError('-n/--namespace goes with --workload');
      // Checked first: no cluster, no namespace, no workload are one line each.
      const cluster = opts.workload ? await resolveClusterWorkload(opts.workload, opts.namespace) : undefined;
      const input: CaptureInput = {
        service: opts.service,
        target: {
          ...(opts.appPort !== undefined ? { appPort: opts.appPort } : {}),
          appHost: opts.appHost,
          inPort: opts.inPort,
          outPort: opts.outbound ? opts.outPort : -1,
          tlsIntercept: Boolean(opts.tlsIntercept),
          ...(cluster ? { workload: cluster.ref } : {}),
        },
        ...(opts.duration ? { duration: opts.duration } : {}),
        ...(opts.maxBody ? { maxBodyBytes: opts.maxBody } : {}),
        ...(opts.filters ? { filters: await readRules('--filters', opts.filters, FilterRules) } : {}),
        ...(opts.dlp === false
          ? { dlp: false }
          : typeof opts.dlp === 'string'
            ? { dlp: await readRules('--dlp', opts.dlp, DlpRules) }
            : {}),
      };
      checkInput(input);
      if (cluster) return runCapture(input, opts, cluster);
      // Before any server starts: the ports the sidecar will take must be free.
      if (opts.outbound && opts.inPort !== 0 && opts.inPort === opts.outPort) {
        throw new UsageError(`--in-port and --out-port must differ (both ${opts.inPort})`);
      }
      await requirePortFree(opts.inPort, '--in-port');
      if (opts.outbound) await requirePortFree(opts.outPort, '--out-port');
      const appPort = opts.appPort!;
      if (!(await somethingListens(opts.appHost, appPort))) {
        warning(
          `nothing answers on ${opts.appHost}:${appPort} (--app-port) yet: ` +
            'requests get 502 until the app listens there',
        );
      }
      await runCapture(input, opts);
    });
}

/** The line that tells where to send traffic, once the capture is on. */
function announcer(opts: CaptureOptions, workflowId: string, cluster?: ClusterWorkload) {
  let announced = false;
  return (p: CaptureProgress) => {
    if (announced) return;
    if (cluster) {
      if (p.phase !== 'capturing') return;
      announced = true;
      const { kind, name, namespace } = cluster.ref;
      return notice(
        `capturing ${kind} ${name} in ${namespace}: its pods run the sidecar; traffic through its Service ` +
          `is recorded (workflow ${workflowId}, Temporal from ${cluster.temporalSource})`,
      );
    }
    if (!p.inPort) return;
    announced = true;
    notice(
      `capturing ${opts.service}: send traffic to http://${opts.appHost}:${p.inPort}` +
        (p.outPort && p.outPort > 0
          ? // grpc-js and curl read only the lower-case spelling.
            `; app HTTP_PROXY=http://127.0.0.1:${p.outPort} and http_proxy=http://127.0.0.1:${p.outPort}`
          : '; outbound capture off') +
        ` (workflow ${workflowId})`,
    );
    // A JVM ignores HTTP_PROXY: the same proxy (and the CA's truststore) as JAVA_TOOL_OPTIONS.
    if (p.outPort && p.outPort > 0)
      jvmCaptureNotice(p.outPort, opts.tlsIntercept ? caDir(repriseHome()) : undefined).then(
        (line) => notice(line),
        (err: Error) => warning(`no JAVA_TOOL_OPTIONS for JVM apps: ${firstLine(err.message)}`),
      );
  };
}

/** Starts captureWorkflow (locally, or on the cluster's Temporal with --workload), watches it, prints the result. */
async function runCapture(
  input: CaptureInput,
  opts: CaptureOptions,
  cluster?: ClusterWorkload,
): Promise<void> {
  // Loaded here, not at start-up: the Temporal SDK is heavy and other commands don't need it.
  const { resolveTemporal, workflowLink, TASK_QUEUE } = await import('../resolve-temporal.js');
  const temporal = cluster ? await connectClusterTemporal(cluster) : await resolveTemporal();
  try {
    const workflowId = newId(`capture-${opts.service}`);
    const handle = await temporal.client.workflow.start('captureWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [input],
    });
    const result = await watchWorkflow<CaptureResult, CaptureProgress>(handle, {
      what: 'capture',
      link: workflowLink(temporal, workflowId),
      workerLog: temporal.workerLog,
      stopSignal: 'stop',
      stopNotice: 'stopping capture; sealing the snapshot',
      totalMs: opts.duration ? parseDuration(opts.duration) : undefined,
      onProgress: announcer(opts, workflowId, cluster),
      render: (p) => `${p.phase}: ${p.pairs} pairs, ${p.dropped} dropped, ${formatBytes(p.bytes)}`,
    });
    if (opts.json) {
      printJson({
        snapshotId: result.snapshotId,
        pairs: result.pairs,
        dropped: result.dropped,
        bytes: result.bytes,
        workflowId: result.workflowId,
      });
    } else {
      printLine(
        `snapshot ${style.bold(result.snapshotId)}: ${result.pairs} pairs (${result.inbound} inbound, ` +
          `${result.outbound} outbound), ${result.dropped} dropped, ${formatBytes(result.bytes)}`,
      );
      if (result.dropped > 0) warning(`${result.dropped} pairs were dropped (see docs: capture fails open)`);
    }
  } finally {
    await temporal.close();
  }
}
