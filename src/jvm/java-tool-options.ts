/**
 * JAVA_TOOL_OPTIONS for a JVM whose outbound HTTP(S) Reprise records or answers. A JVM ignores
 * HTTP_PROXY and the system CA bundle; every JDK reads JAVA_TOOL_OPTIONS, and the JDK's default
 * ProxySelector (used by HttpURLConnection and by `HttpClient.newHttpClient()`) follows the
 * `http(s).proxyHost/Port` and `http.nonProxyHosts` system properties.
 *
 * Reprise's options are one block that starts with the marker `-Dreprise.jvm=<purpose>` and is
 * appended after the user's own options: within JAVA_TOOL_OPTIONS the last `-D` of a name wins,
 * so the block takes effect while everything else the user set stays. Removing the block gives
 * back the user's value byte for byte. Options on the java command line still win over
 * JAVA_TOOL_OPTIONS: an app that sets the proxy or truststore there is not redirected.
 */

export const MARKER_PROPERTY = 'reprise.jvm';
export type JvmPurpose = 'capture' | 'replay';

/** The properties Reprise sets; a block is the marker and the run of these after it. */
const OWNED = [
  'http.proxyHost',
  'http.proxyPort',
  'https.proxyHost',
  'https.proxyPort',
  'http.nonProxyHosts',
  'javax.net.ssl.trustStore',
  'javax.net.ssl.trustStoreType',
  'javax.net.ssl.trustStorePassword',
];

export interface JvmOptionsSettings {
  purpose: JvmPurpose;
  /** Absent: no proxy (the app reaches the responder by host aliases); only the truststore. */
  proxy?: {
    host: string;
    port: number;
    /**
     * Hosts reached directly. Empty: everything goes through the proxy, loopback too (a JDK
     * adds its own `localhost|127.*|[::1]|...` to any non-empty list).
     */
    nonProxyHosts: string[];
  };
  trustStore?: { path: string; type: string; password: string };
}

export class JvmOptionsError extends Error {}

/** `-Dname=value`, quoted the way the JVM reads JAVA_TOOL_OPTIONS when the value has spaces. */
function property(name: string, value: string): string {
  const option = `-D${name}=${value}`;
  if (!/\s/.test(option)) return option;
  if (!option.includes('"')) return `"${option}"`;
  if (!option.includes("'")) return `'${option}'`;
  throw new JvmOptionsError(
    `${name}: "${value}" has spaces and both kinds of quotes; the JVM cannot read it`,
  );
}

/** Reprise's block, in order: marker, proxy, truststore. */
export function repriseJvmOptions(s: JvmOptionsSettings): string[] {
  const options = [property(MARKER_PROPERTY, s.purpose)];
  if (s.proxy) {
    const host =
      s.proxy.host.includes(':') && !s.proxy.host.startsWith('[') ? `[${s.proxy.host}]` : s.proxy.host;
    for (const scheme of ['http', 'https']) {
      options.push(
        property(`${scheme}.proxyHost`, host),
        property(`${scheme}.proxyPort`, String(s.proxy.port)),
      );
    }
    options.push(property('http.nonProxyHosts', s.proxy.nonProxyHosts.join('|')));
  }
  if (s.trustStore) {
    options.push(
      property('javax.net.ssl.trustStore', s.trustStore.path),
      property('javax.net.ssl.trustStoreType', s.trustStore.type),
      property('javax.net.ssl.trustStorePassword', s.trustStore.password),
    );
  }
  return options;
}

/** NO_PROXY syntax (`a,.b.example,::1`) as http.nonProxyHosts entries (`a`, `*.b.example`, `[::1]`). */
export function nonProxyHostsFromNoProxy(noProxy: string): string[] {
  return noProxy
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => (h.startsWith('.') ? `*${h}` : h.includes(':') && !h.startsWith('[') ? `[${h}]` : h));
}

interface Token {
  start: number;
  end: number;
  /** With the JVM's quote removal applied. */
  value: string;
}

/** Splits like the JVM: white space separates options; '...' and "..." group, quotes dropped. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const start = i;
    let value = '';
    while (i < text.length && !/\s/.test(text[i])) {
      const quote = text[i];
      if (quote === '"' || quote === "'") {
        const close = text.indexOf(quote, i + 1);
        const stop = close === -1 ? text.length : close;
        value += text.slice(i + 1, stop);
        i = stop + 1;
      } else value += text[i++];
    }
    tokens.push({ start, end: Math.min(i, text.length), value });
  }
  return tokens;
}

const isMarker = (t: Token) => t.value.startsWith(`-D${MARKER_PROPERTY}=`);
const isOwned = (t: Token) => OWNED.some((name) => t.value.startsWith(`-D${name}=`));

/** The value without Reprise's block(s), exactly as it was before withRepriseOptions added one. */
export function withoutRepriseOptions(value: string): string {
  let text = value;
  for (;;) {
    const tokens = tokenize(text);
    const first = tokens.findIndex(isMarker);
    if (first === -1) return text;
    let last = first;
    while (last + 1 < tokens.length && isOwned(tokens[last + 1]) && !isMarker(tokens[last + 1])) last++;
    const start = tokens[first].start;
    const end = tokens[last].end;
    // withRepriseOptions put exactly one space before a block that follows the user's text.
    text = start > 0 ? text.slice(0, start - 1) + text.slice(end) : text.slice(end).replace(/^\s/, '');
  }
}

/** The user's value (without any earlier Reprise block) followed by Reprise's block. */
export function withRepriseOptions(userValue: string | undefined, options: string[]): string {
  const user = withoutRepriseOptions(userValue ?? '');
  const block = options.join(' ');
  return user === '' ? block : `${user} ${block}`;
}

/** `NAME='value'` for a POSIX shell. */
export function shellAssignment(name: string, value: string): string {
  return `${name}='${value.replace(/'/g, `'\\''`)}'`;
}
