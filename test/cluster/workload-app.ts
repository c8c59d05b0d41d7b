/**
 * A workload that is not Reprise, for the cluster tests: a tiny HTTP server (Node, from the
 * one image the node has) in a Deployment with a Service, in its own namespace.
 */
import type { DevCluster } from '../../tools/dev-cluster/index.js';

export const APP_PORT = 8080;

const SERVER = `require('http').createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, method: req.method }));
}).listen(${APP_PORT});`;

export function appDeployment(
  name: string,
  namespace: string,
  image: string,
  templateAnnotations: Record<string, string> = {},
) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: templateAnnotations },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image,
              imagePullPolicy: 'Never',
              command: ['node', '-e', SERVER],
              ports: [{ name: 'http', containerPort: APP_PORT }],
              readinessProbe: { httpGet: { path: '/ready', port: APP_PORT }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

export function appService(name: string, namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: APP_PORT }] },
  };
}

/** Applies the objects and waits for the Deployment's rollout; throws with kubectl's words. */
export async function deployApp(cluster: DevCluster, objects: object[], namespace: string, name: string) {
  const input = objects.map((o) => JSON.stringify(o)).join('\n');
  const applied = await cluster.kubectl(['apply', '-f', '-'], { input });
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
  const rolled = await cluster.kubectl(
    ['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=120s'],
    { timeoutMs: 150_000 },
  );
  if (rolled.code !== 0) throw new Error(`rollout of ${namespace}/${name}: ${rolled.stderr}${rolled.stdout}`);
}
