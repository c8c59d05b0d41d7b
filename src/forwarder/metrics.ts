/** The forwarder's counters, and their Prometheus text exposition. */

export type PairOutcome = 'accepted' | 'filtered' | 'rejected' | 'unrouted';

export class ForwarderMetrics {
  batches = 0;
  batchesTooLarge = 0;
  bytesReceived = 0;
  appendErrors = 0;
  readonly pairs: Record<PairOutcome, number> = { accepted: 0, filtered: 0, rejected: 0, unrouted: 0 };
  /** Tap batches: retries taken before, HTTP/2 state this forwarder could not keep. */
  readonly tap = { duplicateBatches: 0, lostStreams: 0, unknownFrames: 0 };

  /** Gauges and per-kind counters are read at scrape time from their owners. */
  render(live: {
    recordingsOpen: number;
    sidecarDropped: number;
    masked: Record<string, number>;
    unscanned: number;
    laneBusy: number;
  }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    metric('reprise_forwarder_batches_total', 'counter', 'Batches received (NDJSON and tap).', [
      ['', this.batches],
    ]);
    metric('reprise_forwarder_batches_too_large_total', 'counter', 'Batches refused with 413.', [
      ['', this.batchesTooLarge],
    ]);
    metric('reprise_forwarder_received_bytes_total', 'counter', 'Batch bytes received.', [
      ['', this.bytesReceived],
    ]);
    metric(
      'reprise_forwarder_pairs_total',
      'counter',
      'Pairs received, by outcome.',
      Object.entries(this.pairs).map(([k, v]) => [`{outcome="${k}"}`, v]),
    );
    metric('reprise_forwarder_append_errors_total', 'counter', 'Pairs the store failed to take.', [
      ['', this.appendErrors],
    ]);
    metric(
      'reprise_forwarder_tap_duplicate_batches_total',
      'counter',
      'Tap batches received again (ignored).',
      [['', this.tap.duplicateBatches]],
    );
    metric(
      'reprise_forwarder_tap_lost_streams_total',
      'counter',
      'HTTP/2 streams whose connection state was dropped (a batch was missing).',
      [['', this.tap.lostStreams]],
    );
    metric(
      'reprise_forwarder_tap_unknown_frames_total',
      'counter',
      'HTTP/2 tap frames of connections this forwarder has no state for (skipped).',
      [['', this.tap.unknownFrames]],
    );
    metric(
      'reprise_forwarder_tap_busy_batches_total',
      'counter',
      'Tap batches refused with 503 because their ingest lane had a full queue (the sidecar sends them again).',
      [['', live.laneBusy]],
    );
    metric('reprise_forwarder_recordings_open', 'gauge', 'Recordings open.', [['', live.recordingsOpen]]);
    metric('reprise_forwarder_sidecar_dropped', 'gauge', 'Pairs the sidecars report dropped.', [
      ['', live.sidecarDropped],
    ]);
    metric(
      'reprise_forwarder_dlp_masked_total',
      'counter',
      'Values masked by DLP, by kind.',
      Object.entries(live.masked).map(([k, v]) => [`{kind="${k}"}`, v]),
    );
    metric(
      'reprise_forwarder_dlp_unscanned_bodies_total',
      'counter',
      'Bodies DLP could not scan (binary) and stored as recorded.',
      [['', live.unscanned]],
    );
    return lines.join('\n') + '\n';
  }
}
