/**
 * Small helpers over @kubernetes/client-node shared by the operator's parts: the kubeconfig
 * (in-cluster or KUBECONFIG) and API error codes.
 */
import { KubeConfig } from '@kubernetes/client-node';

/** In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster())
    throw new Error('no Kubernetes cluster: run in a pod, or set KUBECONFIG (or --kubeconfig)');
  return kc;
}

/** The HTTP status of a client-node error (ApiException.code), when there is one. */
export function statusOf(err: unknown): number | undefined {
  const code =
    (err as { code?: unknown; statusCode?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own message (a Status body), else the error's. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string })?.message ?? (err as Error)?.message ?? String(err);
}
