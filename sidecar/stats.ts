/** The sidecar's counters: one object, written by every part, read by /stats and /metrics. */

export interface Counters {
  /** Exchanges (HTTP/2: streams) recorded (handed to the shipper), ignored ones not included. */
  pairs: number;
  /** Exchanges the forwarder acknowledged. */
  shipped: number;
  /** Exchanges lost whole: the buffer was full, the forwarder refused a batch, or the drain ran out of time. */
  dropped: number;
  /** Tap bytes the forwarder acknowledged. */
  bytes: number;
  /** Failed or refused batch POSTs (each retry counts). */
  forwarderErrors: number;
  /** Exchanges proxied but not recorded on purpose (ignore lists); an opaque tunnel counts as one. */
  ignored: number;
  /** Connections whose bytes could not be parsed as HTTP/1.x: recording stopped, proxying went on. */
  parseErrors: number;
  /** Connections proxied without recording: TLS on a plain port, bytes neither HTTP/1.x nor HTTP/2. */
  unparsed: number;
  /** Connections that stopped being recorded: too many exchanges awaited a response. */
  overflows: number;
  /** Intercepted tunnels whose client-side TLS handshake failed (e.g. the client does not trust the CA). */
  tlsErrors: number;
  /** Client connections accepted, in and out. */
  connections: number;
}

export interface StatsSnapshot extends Counters {
  bufferedPairs: number;
  bufferedBytes: number;
  activeConnections: number;
}

export function newCounters(): Counters {
  return {
    pairs: 0,
    shipped: 0,
    dropped: 0,
    bytes: 0,
    forwarderErrors: 0,
    ignored: 0,
    parseErrors: 0,
    unparsed: 0,
    overflows: 0,
    tlsErrors: 0,
    connections: 0,
  };
}
