/**
 * The admission webhooks the API server calls (admission.k8s.io/v1 AdmissionReview):
 * `/mutate-workloads` (sidecar injection), `/mutate-trafficreplay` (defaults) and
 * `/validate-trafficreplay` (what the CRD schema cannot check). Each handler answers a review
 * with a review; the HTTP part only decodes and encodes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { JsonPatchOp } from '../api/json-patch.js';
import type { InjectOptions } from './capture-config.js';
import { mutateWorkload, type WorkloadAdmission } from './inject.js';
import {
  checkSpec,
  defaultsPatch,
  type TrafficReplay,
  type TrafficReplaySpec,
} from '../api/traffic-replay.js';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  namespace?: string;
  name?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object?: Record<string, unknown>;
  oldObject?: Record<string, unknown>;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string; reason?: string };
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** The checks that need the store or the API server; the webhook process supplies real ones. */
export interface ReplayLookups {
  /** undefined when no store is configured: the check is skipped with a warning. */
  snapshotExists?(snapshotId: string): Promise<boolean>;
  /** 'found', 'missing', or an error text when the API server could not say. */
  workloadExists(ref: {
    kind: string;
    name: string;
    namespace: string;
  }): Promise<'found' | 'missing' | { error: string }>;
}

export interface AdmissionContext {
  inject: InjectOptions;
  lookups: ReplayLookups;
  /** Namespaces whose workloads never get a sidecar (the operator's own), whatever the webhook's selector says. */
  skipNamespaces?: string[];
  log?: Logger;
}

const allow = (uid: string, extra: Partial<AdmissionResponse> = {}): AdmissionResponse => ({
  uid,
  allowed: true,
  ...extra,
});
const withPatch = (patch: JsonPatchOp[]): Partial<AdmissionResponse> =>
  patch.length
    ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') }
    : {};
const deny = (uid: string, message: string): AdmissionResponse => ({
  uid,
  allowed: false,
  status: { code: 422, reason: 'Invalid', message },
});

export function mutateWorkloads(req: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  if (req.namespace && ctx.skipNamespaces?.includes(req.namespace)) return allow(req.uid);
  try {
    const result = mutateWorkload(
      { kind: req.kind.kind, operation: req.operation, object: req.object ?? {} } as WorkloadAdmission,
      ctx.inject,
    );
    if (result.action !== 'none' || result.warnings.length)
      ctx.log?.info(
        {
          kind: req.kind.kind,
          namespace: req.namespace,
          name: req.name,
          action: result.action,
          warnings: result.warnings,
        },
        'workload admission',
      );
    return allow(req.uid, {
      ...withPatch(result.patch),
      ...(result.warnings.length ? { warnings: result.warnings } : {}),
    });
  } catch (err) {
    // Injection must never block a workload: an unexpected error admits it unchanged.
    ctx.log?.error({ err, kind: req.kind.kind, name: req.name }, 'injection failed; admitted unchanged');
    return allow(req.uid, { warnings: [`reprise: sidecar not injected: ${(err as Error).message}`] });
  }
}

function specOf(obj: Record<string, unknown> | undefined): TrafficReplaySpec | undefined {
  const spec = obj?.spec;
  return spec && typeof spec === 'object' ? (spec as TrafficReplaySpec) : undefined;
}

export function mutateTrafficReplay(req: AdmissionRequest): AdmissionResponse {
  const spec = specOf(req.object);
  if (!spec || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return allow(req.uid);
  const namespace = req.namespace ?? (req.object?.metadata as { namespace?: string })?.namespace ?? 'default';
  return allow(req.uid, withPatch(defaultsPatch(spec, namespace)));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function validateTrafficReplay(
  req: AdmissionRequest,
  ctx: AdmissionContext,
): Promise<AdmissionResponse> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow(req.uid);
  const cr = req.object as unknown as TrafficReplay | undefined;
  const spec = specOf(req.object);
  if (!cr || !spec) return deny(req.uid, 'spec: required');
  if (req.operation === 'UPDATE') {
    const old = req.oldObject as unknown as TrafficReplay | undefined;
    // Metadata-only updates (finalizers, labels, deletion) pass: the workload may be gone by then.
    if (same(old?.spec, spec)) return allow(req.uid);
    if (old?.status?.workflowId)
      return deny(req.uid, 'spec: cannot change once the replay started; delete it and create a new one');
  }
  const problems = checkSpec(spec);
  if (problems.length) return deny(req.uid, problems.join('; '));

  const warnings: string[] = [];
  const checks: Promise<string | undefined>[] = [];
  if (ctx.lookups.snapshotExists) {
    const lookup = ctx.lookups.snapshotExists;
    checks.push(
      lookup(spec.snapshotId).then(
        (found) =>
          found ? undefined : `spec.snapshotId: snapshot "${spec.snapshotId}" not found in the store`,
        (err: Error) => {
          warnings.push(`spec.snapshotId: could not check the store: ${err.message}`);
          return undefined;
        },
      ),
    );
  } else warnings.push('spec.snapshotId: not checked: the operator has no snapshot store configured');
  const ref = spec.workloads?.[0]?.ref;
  if (ref) {
    const target = {
      kind: ref.kind ?? 'Deployment',
      name: ref.name,
      namespace: ref.namespace ?? req.namespace ?? 'default',
    };
    checks.push(
      ctx.lookups.workloadExists(target).then((found) => {
        if (found === 'found') return undefined;
        if (found === 'missing')
          return `spec.workloads[0].ref.name: ${target.kind} ${target.namespace}/${target.name} not found`;
        warnings.push(`spec.workloads[0].ref: could not check that the workload exists: ${found.error}`);
        return undefined;
      }),
    );
  }
  const refused = (await Promise.all(checks)).filter((x): x is string => x !== undefined);
  if (refused.length) return deny(req.uid, refused.join('; '));
  return allow(req.uid, warnings.length ? { warnings } : {});
}

export type AdmissionRoute = '/mutate-workloads' | '/mutate-trafficreplay' | '/validate-trafficreplay';
export const ADMISSION_ROUTES: readonly AdmissionRoute[] = [
  '/mutate-workloads',
  '/mutate-trafficreplay',
  '/validate-trafficreplay',
];

export async function review(
  route: AdmissionRoute,
  body: AdmissionReview,
  ctx: AdmissionContext,
): Promise<AdmissionReview> {
  const req = body.request;
  if (!req?.uid) throw new BadReview('expected an AdmissionReview with request.uid');
  const response =
    route === '/mutate-workloads'
      ? mutateWorkloads(req, ctx)
      : route === '/mutate-trafficreplay'
        ? mutateTrafficReplay(req)
        : await validateTrafficReplay(req, ctx);
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

class BadReview extends Error {}

const MAX_BODY = 8 * 1024 * 1024;

/** The HTTP handler of the admission server (mounted on an https.Server by the webhook worker). */
export function admissionHandler(ctx: AdmissionContext): (req: IncomingMessage, res: ServerResponse) => void {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res
      .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      .end(text);
  };
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as AdmissionRoute;
    if (!ADMISSION_ROUTES.includes(path)) return send(res, 404, { error: `no route ${path}` });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new BadReview('body too large'));
      else chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      let body: AdmissionReview;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
      } catch {
        return send(res, 400, { error: 'expected a JSON AdmissionReview' });
      }
      review(path, body, ctx).then(
        (out) => send(res, 200, out),
        (err: Error) => {
          ctx.log?.error({ err, path }, 'admission review failed');
          send(res, err instanceof BadReview ? 400 : 500, { error: err.message });
        },
      );
    });
  };
}
