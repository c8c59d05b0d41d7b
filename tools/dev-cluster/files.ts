/** The cluster folder's files: PKI, kubeconfigs, and the environment kubectl and helm run in. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { ClusterPki, Pem } from './certs.js';
import { fetchText } from './net.js';
import type { ControlPlaneTools } from './tools.js';

export interface ClusterPaths {
  pki: string;
  logs: string;
  kubeconfig: string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A kubeconfig for one client certificate; data embedded, so the file works wherever it is copied. */
export function kubeconfigYaml(server: string, caPem: string, user: Pem, namespace = 'default'): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'reprise-dev', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [
      {
        name: 'reprise-admin',
        user: { 'client-certificate-data': b64(user.cert), 'client-key-data': b64(user.key) },
      },
    ],
    contexts: [
      { name: 'reprise-dev', context: { cluster: 'reprise-dev', user: 'reprise-admin', namespace } },
    ],
    'current-context': 'reprise-dev',
  });
}

export function writeClusterFiles(dir: string, pki: ClusterPki, server: string): ClusterPaths {
  const paths = {
    pki: path.join(dir, 'pki'),
    logs: path.join(dir, 'logs'),
    kubeconfig: path.join(dir, 'kubeconfig'),
  };
  mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logs, { recursive: true });
  const files: Record<string, string> = {
    'ca.crt': pki.ca.cert,
    'ca.key': pki.ca.key,
    'apiserver.crt': pki.serving.cert,
    'apiserver.key': pki.serving.key,
    'admin.crt': pki.admin.cert,
    'admin.key': pki.admin.key,
    'sa.key': pki.serviceAccount.key,
    'sa.pub': pki.serviceAccount.pub,
  };
  for (const [name, pem] of Object.entries(pki.leaves)) {
    files[`${name}.crt`] = pem.cert;
    files[`${name}.key`] = pem.key;
  }
  for (const [name, text] of Object.entries(files))
    writeFileSync(path.join(paths.pki, name), text, { mode: 0o600 });
  writeFileSync(paths.kubeconfig, kubeconfigYaml(server, pki.ca.cert, pki.admin), { mode: 0o600 });
  return paths;
}

export function clusterEnv(dir: string, tools: ControlPlaneTools, kubeconfigPath: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    PATH: [tools.bin, process.env.PATH].filter(Boolean).join(path.delimiter),
    // Private caches: no discovery cache or helm repo state shared with the user's own clusters.
    KUBECACHEDIR: path.join(dir, 'cache/kube'),
    HELM_CACHE_HOME: path.join(dir, 'cache/helm'),
    HELM_CONFIG_HOME: path.join(dir, 'config/helm'),
    HELM_DATA_HOME: path.join(dir, 'data/helm'),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Admin access to the API server with the cluster's client certificate. */
export function apiClient(server: string, pki: ClusterPki) {
  const tls = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
  const send = (method: string, apiPath: string, object?: unknown, contentType = 'application/json') =>
    fetchText(server + apiPath, {
      ...tls,
      method,
      headers: object === undefined ? {} : { 'content-type': contentType },
      body: object === undefined ? undefined : JSON.stringify(object),
    });
  return {
    get: (apiPath: string) => fetchText(server + apiPath, tls),
    post: (apiPath: string, object: unknown) => send('POST', apiPath, object),
  };
}
