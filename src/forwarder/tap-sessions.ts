/**
 * The tap sessions of the sidecars one lane serves (every sidecar when there is one lane):
 * bounded, the least recently used forgotten.
 */
import { PairIds } from '../protocols/http1/pair.js';
import { TapSession } from '../protocols/capture/session.js';

/** Sidecars whose sessions are kept. */
const MAX_SESSIONS = 10_000;
/** HTTP/2 connections tracked per sidecar. */
const MAX_CONNECTIONS = 1024;

export class TapSessions {
  private readonly sessions = new Map<string, TapSession>();
  private readonly ids = new PairIds();

  get(sidecarId: string): TapSession {
    let s = this.sessions.get(sidecarId);
    if (s) {
      this.sessions.delete(sidecarId);
    } else {
      s = new TapSession(sidecarId, this.ids, { maxConnections: MAX_CONNECTIONS });
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    this.sessions.set(sidecarId, s);
    return s;
  }
}
