/**
 * A live gRPC call on a path where an interactive call was recorded (the server answered before
 * the client had finished sending: a chat, a bidi stream whose client waits for each answer).
 * Its request messages are read as they arrive; once those so far open a recorded conversation
 * (the same messages before its first answer), the answer starts without waiting for the
 * request's end: after each live message that matches the recording's next one, the response
 * messages recorded before the recording's following request message are sent. A live message
 * that differs, one message too many, or a request that ends early then ends the call with
 * NOT_FOUND naming the message; the rest of the recorded answer is not sent. A call that opens
 * no recorded conversation is matched whole at its end, as before (answer-calls.ts).
 */
import type { Http2ServerResponse } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ResponderConfig } from '../../config/replay.js';
import { GrpcStatus, splitMessages } from '../../protocols/grpc/wire.js';
import { MATCH_HEADER } from '../recorded-reply.js';
import { type FieldPaths, messageDigest, openingKey } from './call-key.js';
import type { GrpcReply, RecordedCalls, RecordedConversation } from './recorded-calls.js';

export interface ConversationContext {
  calls: RecordedCalls;
  ignore: FieldPaths;
  latency: ResponderConfig['latency'];
  maxMessageBytes: number;
  matched(): void;
  /** Logs and counts a miss; returns the trailers that carry its status. */
  missed(why: string, status: number, key: string): Record<string, string>;
}

const PREFIX = 5;
const EMPTY = Buffer.alloc(0);

export class LiveConversation {
  /** Bytes of a request message not yet complete. */
  private partial: Buffer = EMPTY;
  private readonly digests: string[] = [];
  private reply: GrpcReply | undefined;
  private conv: RecordedConversation | undefined;
  private sent = 0;
  private done = false;
  /** Response messages and the end wait here in order, each at its due time. */
  private queue: { due: number; run: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ConversationContext,
    private readonly res: Http2ServerResponse,
    private readonly path: string,
    private readonly encoding: string | undefined,
    /** Messages read before giving up on an opening (the longest recorded on the path). */
    private readonly longestOpening: number,
  ) {
    this.tryOpening();
  }

  /** True once the call is answered as a conversation: the caller stops buffering the request. */
  get committed(): boolean {
    return this.reply !== undefined;
  }

  /** Request bytes as they arrive. */
  push(chunk: Buffer): void {
    if (this.done || (!this.committed && this.digests.length > this.longestOpening)) return;
    let bytes = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    while (bytes.length >= PREFIX) {
      const end = PREFIX + bytes.readUInt32BE(1);
      if (end - PREFIX > this.ctx.maxMessageBytes)
        return this.fail('a request message is too large to compare');
      if (bytes.length < end) break;
      this.message(bytes.subarray(0, end));
      if (this.done) return;
      bytes = bytes.subarray(end);
    }
    // A copy, so the partial message does not pin the whole chunk.
    this.partial = bytes.length ? Buffer.from(bytes) : EMPTY;
  }

  /** The request ended: the rest of the answer, or NOT_FOUND when messages are missing. */
  end(): void {
    if (this.done || !this.conv) return;
    const expected = this.conv.request.length;
    if (this.digests.length < expected)
      return this.fail(
        `the request ended after ${this.digests.length} of the recorded call's ${expected} messages`,
      );
    this.done = true;
    this.ctx.matched();
    this.sendUpTo(this.reply!.messages.length, this.lastRequestAt());
    const endMs = this.reply!.endMs;
    this.enqueue(this.delay(endMs), () => this.res.stream.destroyed || this.res.stream.end());
  }

  /** One whole length-prefixed message. */
  private message(frame: Buffer): void {
    const data = splitMessages(frame, this.encoding, this.ctx.maxMessageBytes).frames[0];
    if (!data || data.error || data.rawEncoding)
      return this.fail(`request message ${this.digests.length + 1} could not be read`);
    const digest = messageDigest(data.data, this.ctx.ignore);
    const i = this.digests.length;
    this.digests.push(digest);
    if (!this.conv) return this.tryOpening();
    const recorded = this.conv.request[i];
    if (!recorded) return this.fail(`request message ${i + 1} is one more than the recorded call's ${i}`);
    if (recorded.digest !== digest)
      return this.fail(`request message ${i + 1} differs from the recorded call's`);
    this.answerAfter(i + 1);
  }

  /** Commits to a recorded conversation when the messages so far are its opening. */
  private tryOpening(): void {
    if (this.digests.length > this.longestOpening) return;
    const entry = this.ctx.calls.findOpening(openingKey(this.path, this.digests));
    if (!entry) return;
    const reply = this.ctx.calls.next(entry);
    this.reply = reply;
    this.conv = reply.conversation!;
    const stream = this.res.stream;
    if (stream.destroyed) return;
    stream.respond({ ...reply.headers, [MATCH_HEADER]: 'MATCH' }, { waitForTrailers: true });
    if (reply.trailers) this.res.addTrailers(reply.trailers);
    this.answerAfter(this.digests.length);
  }

  /** `count` request messages matched: the answers recorded before the next request message. */
  private answerAfter(count: number): void {
    const next = this.conv!.request[count];
    const until = next ? this.conv!.responseAtMs.findIndex((t) => t >= next.atMs) : -1;
    this.sendUpTo(
      until === -1 ? this.conv!.responseAtMs.length : until,
      count ? this.conv!.request[count - 1].atMs : 0,
    );
  }

  /** Queues response messages up to (not including) `upTo`, timed from the request message at `fromMs`. */
  private sendUpTo(upTo: number, fromMs: number): void {
    const { messages } = this.reply!;
    for (; this.sent < upTo; this.sent++) {
      const { frame } = messages[this.sent];
      const atMs = this.conv!.responseAtMs[this.sent];
      this.enqueue(
        this.delay(atMs - fromMs),
        () => this.res.stream.destroyed || this.res.stream.write(frame),
      );
    }
  }

  private lastRequestAt(): number {
    return this.conv!.request.at(-1)?.atMs ?? 0;
  }

  /** When to send something recorded `ms` after what triggers it, under the responder's latency setting. */
  private delay(ms: number): number {
    const latency = this.ctx.latency;
    const extra =
      latency === 'recorded' ? Math.max(0, ms) : typeof latency === 'object' ? latency.fixedMs : 0;
    return performance.now() + extra;
  }

  /** Runs queued sends in order, each no earlier than its due time. */
  private enqueue(due: number, run: () => void): void {
    // Never before what is already queued: the recorded order holds.
    this.queue.push({ due: Math.max(due, this.queue.at(-1)?.due ?? 0), run });
    if (!this.timer) this.pump();
  }

  private pump(): void {
    this.timer = undefined;
    while (this.queue.length > 0) {
      const wait = this.queue[0].due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      this.queue.shift()!.run();
    }
  }

  /**
   * Ends the call with NOT_FOUND naming what differs. Before any answer it only stops reading
   * message by message: the whole request is then matched at its end, as every other call.
   */
  private fail(why: string): void {
    if (this.done) return;
    this.done = true;
    if (!this.committed) return;
    const trailers = this.ctx.missed(why, GrpcStatus.NOT_FOUND, openingKey(this.path, this.digests));
    this.queue = [];
    clearTimeout(this.timer);
    if (this.res.stream.destroyed) return;
    this.res.addTrailers(trailers);
    this.res.stream.end();
  }
}
