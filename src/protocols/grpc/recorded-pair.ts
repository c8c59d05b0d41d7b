/**
 * The gRPC and HTTP/2 parts of a stored pair (format 2, src/model/h2.ts). The replay side reads
 * them, and their types, only through this module.
 */
import type { RRPair } from '../../model/traffic.js';
import type { GrpcRecord } from '../../model/h2.js';
import type { RRPairV2 } from './recorded-format.js';

export type { GrpcRecord, H2Facts } from '../../model/h2.js';
export { RRPairV2 } from './recorded-format.js';

type HeaderList = [string, string][];

/** The recorded gRPC call of a pair, when it is one. */
export function grpcOf(pair: RRPair): GrpcRecord | undefined {
  return pair.protocol === 'h2' ? (pair as RRPairV2).grpc : undefined;
}

/** The recorded response trailers (HTTP/2), when there were any. */
export function responseTrailers(pair: RRPair): HeaderList | undefined {
  return (pair as RRPairV2).response?.trailers;
}
