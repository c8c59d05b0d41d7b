/**
 * Leader election over a coordination.k8s.io Lease, as client-go's leaderelection does it: every
 * operator replica serves the webhooks, only the Lease holder runs the TrafficReplay controller.
 * A holder renews the Lease every third of its duration; another replica takes it only once it
 * has seen the same renewal for a whole duration (its own clock, so clock skew between nodes does
 * not matter), with the object's resourceVersion guarding every write: two replicas can never
 * both hold it. A holder that cannot renew before its duration ends stops leading.
 */
import type { Logger } from 'pino';
import { isConflict, isNotFound, resourcePath, type KubeApi } from '../client/api.js';

export interface LeaderElectionOptions {
  api: KubeApi;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This replica (its pod name); must differ between replicas. */
  identity: string;
  leaseDurationMs: number;
  log: Logger;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A Lease's MicroTime: RFC 3339 with microseconds. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The last record seen and when it was first seen, by this replica's clock. */
  private observed: { key: string; atMs: number } | undefined;

  constructor(private readonly o: LeaderElectionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Tries for the Lease until it is held, then keeps it; `onStarted` once it is held,
   * `onStopped` if it is lost (the caller should stop reconciling at once).
   */
  run(onStarted: () => void, onStopped: () => void): void {
    const retryMs = Math.max(100, Math.floor(this.o.leaseDurationMs / 3));
    // Stop before another replica may take it (it waits a whole duration from the last renewal).
    const renewDeadlineMs = Math.floor((this.o.leaseDurationMs * 2) / 3);
    let lastRenewMs = 0;
    const tick = async () => {
      if (this.stopped) return;
      const held = await this.tryAcquireOrRenew().catch((err: Error) => {
        this.o.log.warn({ err: err.message, lease: this.o.name }, 'lease update failed');
        return false;
      });
      if (this.stopped) return;
      const now = Date.now();
      if (held) lastRenewMs = now;
      if (held && !this.leading) {
        this.leading = true;
        this.o.log.info(
          { identity: this.o.identity, lease: this.o.name },
          'leading: this replica reconciles',
        );
        onStarted();
      } else if (!held && this.leading && now - lastRenewMs >= renewDeadlineMs) {
        this.leading = false;
        this.o.log.warn({ identity: this.o.identity, lease: this.o.name }, 'lost the lease: stopped leading');
        onStopped();
      }
      this.timer = setTimeout(() => void tick(), retryMs);
    };
    void tick();
  }

  /** Stops trying; a holder gives the Lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.o.api.find<Lease>(this.path()).catch(() => undefined);
    if (lease?.spec.holderIdentity !== this.o.identity) return;
    lease.spec.holderIdentity = '';
    lease.spec.leaseDurationSeconds = 1;
    await this.o.api.request('PUT', this.path(), { body: lease }).catch(() => undefined);
  }

  private path(): string {
    return resourcePath('Lease', this.o.namespace, this.o.name);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const durationS = Math.max(1, Math.ceil(this.o.leaseDurationMs / 1000));
    const mine = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: durationS,
      renewTime: microTime(now),
    };
    const current = await this.o.api.find<Lease>(this.path());
    if (!current) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace },
        spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
      };
      return this.write('POST', resourcePath('Lease', this.o.namespace), lease);
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${spec.renewTime ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, atMs: now };
    const heldByOther = holder !== '' && holder !== this.o.identity;
    const expiresMs = this.observed.atMs + (spec.leaseDurationSeconds ?? durationS) * 1000;
    if (heldByOther && now < expiresMs) return false;
    const taking = holder !== this.o.identity;
    current.spec = {
      ...spec,
      ...mine,
      acquireTime: taking ? microTime(now) : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (taking && holder !== '' ? 1 : 0),
    };
    return this.write('PUT', this.path(), current);
  }

  /** A write another replica got in first (409) is not an error: that one holds it. */
  private async write(method: 'POST' | 'PUT', path: string, lease: Lease): Promise<boolean> {
    try {
      await this.o.api.request(method, path, { body: lease });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }
}
