/**
 * gRPC responses are compared as JSON, with everything the analyzer does for JSON bodies
 * (field-level diffs, ignore paths, noise and volatile-field detection): a call becomes
 * `{"grpcStatus": 0, "grpcMessage": "", "messages": [{...}, ...]}`, each message an object
 * keyed by field number (`"1"`, nested messages as objects, a field that repeats as an array,
 * bytes in base64). So a changed field shows as `$.messages[0]['2']['1']` and is ignored with
 * `$.messages[*].2.1`. Numbers, not names: the replayed side has no schema, and a recording
 * with reflection names must still compare equal to the same message without them.
 */
import type { Body } from '../model/traffic.js';
import type { ProtoField } from '../protocols/grpc/protobuf.js';

interface CallOutcome {
  status?: number;
  message?: string;
  response: readonly { fields?: ProtoField[]; raw?: string }[];
}

type Json = string | number | Json[] | { [key: string]: Json };

/** The JSON form of a call's outcome (see the module comment). */
export function grpcView(call: CallOutcome): { [key: string]: Json } {
  return {
    grpcStatus: call.status ?? -1,
    grpcMessage: call.message ?? '',
    messages: call.response.map((m) => (m.fields ? fieldsView(m.fields) : { raw: m.raw ?? '' })),
  };
}

function fieldsView(fields: readonly ProtoField[]): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  const repeated = new Set<string>();
  for (const f of fields) {
    const key = String(f.n);
    const value: Json = f.t === 'message' ? fieldsView(f.v) : f.v;
    if (!(key in out)) out[key] = value;
    else if (repeated.has(key)) (out[key] as Json[]).push(value);
    else {
      out[key] = [out[key], value];
      repeated.add(key);
    }
  }
  return out;
}

/** A gRPC call's outcome as a JSON body, for the body comparison and the noise detection. */
export function grpcBody(call: CallOutcome | undefined): Body | undefined {
  if (!call) return undefined;
  const data = JSON.stringify(grpcView(call));
  return { encoding: 'utf8', data, size: Buffer.byteLength(data), truncated: false };
}

/** The observed side: the generator's `response.grpc` (src/generator/h2/observed-call.ts). */
export function observedGrpcBody(response: { grpc?: Record<string, unknown> }): Body | undefined {
  const grpc = response.grpc as CallOutcome | undefined;
  return grpc && Array.isArray(grpc.response) ? grpcBody(grpc) : undefined;
}
