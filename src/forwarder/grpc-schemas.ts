/**
 * Field names for recorded gRPC calls: the schemas a server offers through gRPC reflection,
 * fetched once per origin (the upstream the sidecar connected to), bounded and cached, misses
 * included (a server without reflection is asked again only after a while). A call waits for
 * its origin's first fetch, bounded by the fetch timeout; without a schema its fields keep
 * their numbers.
 */
import type { Logger } from 'pino';
import type { GrpcCall } from '../protocols/grpc/call.js';
import type { DescriptorRegistry } from '../protocols/grpc/descriptors.js';
import { fetchDescriptors } from '../protocols/grpc/reflection.js';

export interface GrpcSchemaOptions {
  /** Off: fields keep their numbers, nothing is fetched. */
  enabled: boolean;
  /** For one fetch. Default 3 s. */
  timeoutMs?: number;
  /** Origins remembered (schemas and misses). Default 256. */
  maxOrigins?: number;
  /** How long a miss (no reflection, unreachable) is remembered. Default 5 minutes. */
  retryAfterMs?: number;
  log?: Logger;
}

interface Entry {
  registry?: DescriptorRegistry;
  pending?: Promise<void>;
  /** A miss is forgotten after this time (epoch ms). */
  until: number;
}

export class GrpcSchemas {
  private readonly entries = new Map<string, Entry>();
  /** Fetches started, and calls named, for the metrics. */
  fetches = 0;
  named = 0;

  constructor(private readonly opts: GrpcSchemaOptions) {}

  /** The call with its fields named when `origin` offers a schema for its method. */
  async name(call: GrpcCall, origin: string): Promise<GrpcCall> {
    if (!this.opts.enabled) return call;
    const registry = await this.registry(origin);
    if (!registry?.method(call.service, call.method)) return call;
    this.named++;
    return registry.nameCall(call);
  }

  private async registry(origin: string): Promise<DescriptorRegistry | undefined> {
    let e = this.entries.get(origin);
    if (e && !e.pending && !e.registry && Date.now() > e.until) {
      this.entries.delete(origin);
      e = undefined;
    }
    if (!e) e = this.fetch(origin);
    if (e.pending) await e.pending;
    return e.registry;
  }

  private fetch(origin: string): Entry {
    const max = this.opts.maxOrigins ?? 256;
    if (this.entries.size >= max) this.entries.delete(this.entries.keys().next().value!);
    const entry: Entry = { until: 0 };
    this.fetches++;
    entry.pending = fetchDescriptors(origin, { timeoutMs: this.opts.timeoutMs ?? 3000 }).then(
      (r) => {
        entry.registry = r.registry;
        entry.pending = undefined;
      },
      (err: unknown) => {
        entry.until = Date.now() + (this.opts.retryAfterMs ?? 5 * 60_000);
        entry.pending = undefined;
        this.opts.log?.debug({ err, origin }, 'no gRPC reflection: fields keep their numbers');
      },
    );
    this.entries.set(origin, entry);
    return entry;
  }
}
