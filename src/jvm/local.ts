/**
 * JVMs on this machine: the JAVA_TOOL_OPTIONS line `reprise capture` prints, and the env
 * `replay --app` gives a JVM command. Locally nothing bypasses the proxy (loopback included),
 * as with HTTP_PROXY and an empty NO_PROXY for other apps.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isJvmCommand } from './detect.js';
import {
  repriseJvmOptions,
  shellAssignment,
  withRepriseOptions,
  type JvmOptionsSettings,
  type JvmPurpose,
} from './java-tool-options.js';
import { ensureTruststore, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE } from './truststore.js';

export const trustStoreAt = (file: string) => ({
  path: file,
  type: TRUSTSTORE_TYPE,
  password: TRUSTSTORE_PASSWORD,
});

/** `http://host:port` (a proxy or the responder) as the JVM's proxy with nothing bypassing it. */
export function proxyAt(url: string, nonProxyHosts: string[] = []): NonNullable<JvmOptionsSettings['proxy']> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port, nonProxyHosts };
}

/**
 * Reprise's options for a JVM on this machine whose proxy is `proxyUrl`; with a CA in `caDir`
 * (TLS interception, the responder) the truststore is written next to it and trusted.
 */
export async function localJvmOptions(
  purpose: JvmPurpose,
  proxyUrl: string,
  caDir?: string,
): Promise<string[]> {
  const withCa = caDir !== undefined && existsSync(path.join(caDir, 'ca.pem'));
  return repriseJvmOptions({
    purpose,
    proxy: proxyAt(proxyUrl),
    ...(withCa ? { trustStore: trustStoreAt(await ensureTruststore(caDir)) } : {}),
  });
}

/**
 * JAVA_TOOL_OPTIONS for `replay --app COMMAND` when COMMAND runs a JVM (see isJvmCommand), with
 * the user's own options (`userOptions`: the app's env, else the worker's) kept in front.
 */
export async function jvmAppEnv(req: {
  command: string;
  userOptions?: string;
  proxyUrl: string;
  caDir: string;
}): Promise<Record<string, string>> {
  if (!isJvmCommand(req.command)) return {};
  const options = await localJvmOptions('replay', req.proxyUrl, req.caDir);
  return { JAVA_TOOL_OPTIONS: withRepriseOptions(req.userOptions, options) };
}

/** What `reprise capture` prints for JVM apps: the options to start one with, shell-quoted. */
export async function jvmCaptureNotice(outPort: number, caDir?: string): Promise<string> {
  const options = await localJvmOptions('capture', `http://127.0.0.1:${outPort}`, caDir);
  return `for a JVM app: ${shellAssignment('JAVA_TOOL_OPTIONS', options.join(' '))} (after any options of your own)`;
}
