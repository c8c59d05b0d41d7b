/**
 * The `capture.reprise.dev/upstream-ca` annotation, checked before a capture switches the
 * sidecar on: the kubelet would otherwise leave the new pod in ContainerCreating (a missing
 * ConfigMap or key), and the capture would fail only at its rollout bound with no reason given.
 */
import type { WorkloadRef } from '../../src/config/replay.js';
import { CAPTURE, UPSTREAM_CA_KEY } from '../../src/kube/api/annotations.js';
import { KubeApi, resourcePath } from '../../src/kube/client/api.js';
import { RuntimeError, type RuntimeContext } from '../runtime.js';
import type { WorkloadObject } from './common.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** Throws an InvalidInput RuntimeError naming the annotation when its ConfigMap cannot be used. */
export async function checkUpstreamCa(
  api: KubeApi,
  workload: WorkloadRef,
  current: WorkloadObject,
  ctx: RuntimeContext,
): Promise<void> {
  const name =
    current.spec.template.metadata?.annotations?.[CAPTURE.upstreamCa] ??
    current.metadata?.annotations?.[CAPTURE.upstreamCa];
  if (name === undefined) return;
  const where = `ConfigMap "${name}" in namespace "${workload.namespace}"`;
  const bad = (why: string) => new RuntimeError(`${CAPTURE.upstreamCa}: ${where} ${why}`, 'InvalidInput');
  let cm: { data?: Record<string, string> } | undefined;
  try {
    cm = await api.find(resourcePath('ConfigMap', workload.namespace, name), ctx.signal);
  } catch (err) {
    throw bad(`could not be read: ${(err as Error).message}`);
  }
  if (!cm) throw bad(`does not exist (create it with its CA certificates under the key ${UPSTREAM_CA_KEY})`);
  const pem = cm.data?.[UPSTREAM_CA_KEY];
  if (pem === undefined)
    throw bad(`has no key ${UPSTREAM_CA_KEY} (has: ${Object.keys(cm.data ?? {}).join(', ') || 'none'})`);
  if (!PEM_CERTIFICATE.test(pem)) throw bad(`key ${UPSTREAM_CA_KEY} holds no PEM certificate`);
}
