/**
 * JVMs in pods: whether a pod template's app container gets JAVA_TOOL_OPTIONS (the
 * `capture.reprise.dev/java` annotation, else detection), and its value with Reprise's block
 * after the container's own. The truststore is a file of the CA Secret (capture) or of the
 * replay's CA ConfigMap, mounted next to ca.pem.
 */
import type { V1EnvVar } from '@kubernetes/client-node';
import { CAPTURE } from '../kube/api/annotations.js';
import { isJvmContainer, type ContainerShape } from './detect.js';
import { repriseJvmOptions, withRepriseOptions, type JvmOptionsSettings } from './java-tool-options.js';
import { proxyAt, trustStoreAt } from './local.js';
import { TRUSTSTORE_FILE } from './truststore.js';

export const JAVA_TOOL_OPTIONS = 'JAVA_TOOL_OPTIONS';
export const POD_CA_DIR = '/etc/reprise/ca';
export const POD_TRUSTSTORE_PATH = `${POD_CA_DIR}/${TRUSTSTORE_FILE}`;
export const podTrustStore = () => trustStoreAt(POD_TRUSTSTORE_PATH);

/** The java annotation's "true"/"false"; absent: what the container shows. Undefined: a bad value. */
export function wantsJvm(annotation: string | undefined, app: ContainerShape): boolean | undefined {
  if (annotation === undefined) return isJvmContainer(app);
  return annotation === 'true' ? true : annotation === 'false' ? false : undefined;
}

type EnvHolder = { env?: { name: string; value?: string; valueFrom?: unknown }[] };

/** Its own JAVA_TOOL_OPTIONS comes from a ConfigMap or Secret: Reprise cannot append to it. */
export function ownOptionsFromRef(app: EnvHolder): boolean {
  return Boolean(app.env?.some((e) => e.name === JAVA_TOOL_OPTIONS && e.valueFrom));
}

export const fromRefWarning = (container: string) =>
  `${CAPTURE.java}: container "${container}" takes JAVA_TOOL_OPTIONS from valueFrom, which Reprise ` +
  `cannot append to; its JVM's outbound calls bypass Reprise (set the options as a value to include them)`;

/** The container's JAVA_TOOL_OPTIONS with Reprise's block; undefined when it comes from valueFrom. */
export function podJavaToolOptions(app: EnvHolder, settings: JvmOptionsSettings): V1EnvVar | undefined {
  if (ownOptionsFromRef(app)) return undefined;
  const own = app.env?.find((e) => e.name === JAVA_TOOL_OPTIONS)?.value;
  return { name: JAVA_TOOL_OPTIONS, value: withRepriseOptions(own, repriseJvmOptions(settings)) };
}

/**
 * A replay's JAVA_TOOL_OPTIONS for a workload's app container: the responder as the proxy (env
 * routing; none with host aliases) and the truststore of the replay's CA ConfigMap. Undefined
 * when the container is no JVM (annotation, else detection) or its options come from valueFrom.
 */
export function jvmReplayOptions(
  template: { metadata?: { annotations?: Record<string, string> } },
  app: ContainerShape & EnvHolder,
  responderUrl: string | undefined,
): V1EnvVar | undefined {
  if (!wantsJvm(template.metadata?.annotations?.[CAPTURE.java], app)) return undefined;
  return podJavaToolOptions(app, {
    purpose: 'replay',
    ...(responderUrl ? { proxy: proxyAt(responderUrl) } : {}),
    trustStore: podTrustStore(),
  });
}
