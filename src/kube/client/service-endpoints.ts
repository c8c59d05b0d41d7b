/**
 * The ready endpoints of a Service as URLs, from its EndpointSlices (discovery.k8s.io/v1): how a
 * capture reaches every forwarder replica behind one Service, not just the one the Service picks.
 */
import { KubeApi, resourcePath } from './api.js';

interface EndpointSlice {
  addressType?: string;
  ports?: { name?: string; port?: number }[] | null;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean | null } }[] | null;
}

/** `http://ADDRESS:PORT` of each ready endpoint (port named `portName`, or the only one), sorted. */
export async function serviceEndpointUrls(
  api: KubeApi,
  namespace: string,
  service: string,
  portName = 'http',
  signal?: AbortSignal,
): Promise<string[]> {
  const list = await api.list<EndpointSlice>(
    resourcePath('EndpointSlice', namespace),
    `kubernetes.io/service-name=${service}`,
    signal,
  );
  const urls = new Set<string>();
  for (const slice of list.items) {
    const ports = slice.ports ?? [];
    const port = (ports.find((p) => p.name === portName) ?? (ports.length === 1 ? ports[0] : undefined))
      ?.port;
    if (!port) continue;
    for (const e of slice.endpoints ?? []) {
      // Ready unknown (null) counts as ready, as kube-proxy treats it.
      if (e.conditions?.ready === false || !e.addresses[0]) continue;
      const host = slice.addressType === 'IPv6' ? `[${e.addresses[0]}]` : e.addresses[0];
      urls.add(`http://${host}:${port}`);
    }
  }
  return [...urls].sort();
}
