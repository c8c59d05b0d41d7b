/**
 * The gRPC and HTTP/2 parts of a stored pair (format 2). Main's RRPair type does not name them
 * yet (docs/proposals/h2-grpc-format.md); the replay side reads them, and their types, only
 * through this module, so moving the schemas into src/model changes this file alone.
 */
import type { RRPair } from '../../model/traffic.js';
import type { GrpcRecord, RRPairV2 } from './recorded-format.js';

export { type GrpcRecord, type H2Facts, RRPairV2 } from './recorded-format.js';

type HeaderList = [string, string][];

/** The recorded gRPC call of a pair, when it is one. */
export function grpcOf(pair: RRPair): GrpcRecord | undefined {
  return pair.protocol === 'h2' ? (pair as RRPairV2).grpc : undefined;
}

/** The recorded response trailers (HTTP/2), when there were any. */
export function responseTrailers(pair: RRPair): HeaderList | undefined {
  return (pair as RRPairV2).response?.trailers;
}
