/**
 * Protobuf schemas from FileDescriptorProto bytes (what gRPC reflection returns), read with the
 * schema-less decoder by field numbers (descriptor.proto), and used to name decoded fields and
 * to settle what the wire alone leaves open (a string that looked like a message, packed ints).
 * Re-reading goes through the original bytes, so the named form still encodes back exactly.
 */
import type { GrpcCall, GrpcMessageRecord } from './call.js';
import { type ProtoField, decodeMessage, payloadBytes, readPackedVarints } from './protobuf.js';

/** FieldDescriptorProto.Type values used here. */
const TYPE = { GROUP: 10, MESSAGE: 11, STRING: 9, BYTES: 12 } as const;
/** Scalar types that are varints on the wire (int32/64, uint32/64, bool, enum, sint32/64). */
const VARINT_TYPES = new Set([3, 4, 5, 8, 13, 14, 17, 18]);

export interface FieldInfo {
  name: string;
  number: number;
  /** FieldDescriptorProto.Type (9 string, 11 message, ...). */
  type: number;
  /** Fully qualified message or enum type, without the leading dot. */
  typeName?: string;
  repeated: boolean;
}

export interface MessageInfo {
  fullName: string;
  fields: Map<number, FieldInfo>;
}

export interface MethodInfo {
  service: string;
  name: string;
  inputType: string;
  outputType: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

export class DescriptorError extends Error {}

export class DescriptorRegistry {
  private readonly files = new Set<string>();
  private readonly messages = new Map<string, MessageInfo>();
  private readonly methods = new Map<string, MethodInfo>();
  private readonly serviceNames = new Set<string>();

  hasFile(name: string): boolean {
    return this.files.has(name);
  }

  /** Reads one serialized FileDescriptorProto; returns its file name. Throws DescriptorError. */
  addFile(bytes: Uint8Array): string {
    const file = decodeMessage(bytes);
    if (!file) throw new DescriptorError('not a FileDescriptorProto');
    const name = str(file, 1) ?? '';
    const pkg = str(file, 2);
    const prefix = pkg ? `${pkg}.` : '';
    for (const m of msgs(file, 4)) this.addMessage(m, prefix);
    for (const s of msgs(file, 6)) {
      const service = `${prefix}${str(s, 1) ?? ''}`;
      this.serviceNames.add(service);
      for (const m of msgs(s, 2)) {
        const info: MethodInfo = {
          service,
          name: str(m, 1) ?? '',
          inputType: typeName(str(m, 2)),
          outputType: typeName(str(m, 3)),
          clientStreaming: int(m, 5) === 1,
          serverStreaming: int(m, 6) === 1,
        };
        this.methods.set(`${service}/${info.name}`, info);
      }
    }
    this.files.add(name);
    return name;
  }

  services(): string[] {
    return [...this.serviceNames];
  }

  message(fullName: string): MessageInfo | undefined {
    return this.messages.get(fullName);
  }

  method(service: string, method: string): MethodInfo | undefined {
    return this.methods.get(`${service}/${method}`);
  }

  /** `fields` of a message of type `type`, named and re-read by the schema (a new list). */
  nameFields(fields: ProtoField[], type: string, depth = 0): ProtoField[] {
    const info = this.messages.get(type);
    if (!info || depth > 32) return fields;
    return fields.map((f) => {
      const fi = info.fields.get(f.n);
      return fi ? this.nameField(f, fi, depth) : f;
    });
  }

  /** The call with its messages' fields named, when its method is known. */
  nameCall(call: GrpcCall): GrpcCall {
    const m = this.method(call.service, call.method);
    if (!m) return call;
    const name = (records: GrpcMessageRecord[], type: string) =>
      records.map((r) => (r.fields ? { ...r, fields: this.nameFields(r.fields, type) } : r));
    return { ...call, request: name(call.request, m.inputType), response: name(call.response, m.outputType) };
  }

  private nameField(f: ProtoField, fi: FieldInfo, depth: number): ProtoField {
    const lengthDelimited = f.t === 'message' || f.t === 'string' || f.t === 'bytes' || f.t === 'packed';
    if (!lengthDelimited) return { ...f, name: fi.name };
    if (fi.type === TYPE.MESSAGE || fi.type === TYPE.GROUP) {
      const nested = f.t === 'message' ? f.v : decodeMessage(rawBytes(f));
      if (!nested) return { ...f, name: fi.name };
      return {
        n: f.n,
        name: fi.name,
        t: 'message',
        v: this.nameFields(nested, fi.typeName ?? '', depth + 1),
      };
    }
    if (fi.type === TYPE.STRING) {
      const bytes = rawBytes(f);
      const text = bytes.toString('utf8');
      // Invalid UTF-8 in a string field would not survive as text: it stays as it was.
      if (Buffer.from(text, 'utf8').equals(bytes)) return { n: f.n, name: fi.name, t: 'string', v: text };
      return { ...f, name: fi.name };
    }
    if (fi.type === TYPE.BYTES)
      return { n: f.n, name: fi.name, t: 'bytes', v: rawBytes(f).toString('base64') };
    if (fi.repeated && VARINT_TYPES.has(fi.type) && f.t !== 'packed') {
      const packed = readPackedVarints(rawBytes(f));
      if (packed) return { n: f.n, name: fi.name, t: 'packed', v: packed };
    }
    return { ...f, name: fi.name };
  }

  private addMessage(m: ProtoField[], prefix: string): void {
    const fullName = `${prefix}${str(m, 1) ?? ''}`;
    const fields = new Map<number, FieldInfo>();
    for (const f of msgs(m, 2)) {
      const info: FieldInfo = {
        name: str(f, 1) ?? '',
        number: int(f, 3) ?? 0,
        type: int(f, 5) ?? 0,
        repeated: int(f, 4) === 3,
      };
      const tn = str(f, 6);
      if (tn) info.typeName = typeName(tn);
      fields.set(info.number, info);
    }
    this.messages.set(fullName, { fullName, fields });
    for (const nested of msgs(m, 3)) this.addMessage(nested, `${fullName}.`);
  }
}

const rawBytes = payloadBytes;

function typeName(name: string | undefined): string {
  return name?.startsWith('.') ? name.slice(1) : (name ?? '');
}

/** First field `n` read as a string (descriptor strings are printable, but read by number). */
function str(fields: ProtoField[], n: number): string | undefined {
  const f = fields.find((x) => x.n === n);
  if (!f) return undefined;
  if (f.t === 'string') return f.v;
  if (f.t === 'bytes' || f.t === 'message' || f.t === 'packed') return rawBytes(f).toString('utf8');
  return undefined;
}

function int(fields: ProtoField[], n: number): number | undefined {
  const f = fields.find((x) => x.n === n);
  return f && f.t === 'varint' && typeof f.v === 'number' ? f.v : undefined;
}

/** Every field `n` read as a message (re-read from its bytes when the wire looked like text). */
function msgs(fields: ProtoField[], n: number): ProtoField[][] {
  const out: ProtoField[][] = [];
  for (const f of fields) {
    if (f.n !== n) continue;
    const m =
      f.t === 'message' ? f.v : f.t === 'string' || f.t === 'bytes' ? decodeMessage(rawBytes(f)) : undefined;
    if (!m) throw new DescriptorError(`field ${n} is not a message`);
    out.push(m);
  }
  return out;
}
