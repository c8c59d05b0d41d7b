/** The sidecar's counters: one object, written by every part, read by /stats and /metrics. */

export interface Counters {
  /** Pairs recorded (handed to the shipper), ignored ones not included. */
  pairs: number;
  /** Pairs the forwarder acknowledged. */
  shipped: number;
  /** Pairs lost: the buffer was full, the forwarder refused a batch, or the drain ran out of time. */
  dropped: number;
  /** NDJSON bytes the forwarder acknowledged. */
  bytes: number;
  /** Failed or refused batch POSTs (each retry counts). */
  forwarderErrors: number;
  /** Exchanges proxied but not recorded on purpose (ignore lists); an opaque tunnel counts as one. */
  ignored: number;
  /** Connections whose bytes could not be parsed as HTTP/1.x: recording stopped, proxying went on. */
  parseErrors: number;
  /** Connections proxied without parsing because they speak another protocol (h2c, TLS on a plain port). */
  unparsed: number;
  /** Connections that stopped being recorded because the recorder fell too far behind. */
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
