import type { Writable } from 'node:stream';

/** Why a stream ended: its client left, was too slow, lost its token, or the server is stopping. */
export type SseCloseReason = 'client-left' | 'too-slow' | 'revoked' | 'shutdown';

/** A burst (one batch raising many alerts) may fill this many times the limit before a client is dropped at once. */
export const BURST_FACTOR = 4;

/**
 * One open event stream. Writes go to the response, which buffers what the network has not taken
 * yet (`writableLength` counts the response's and its socket's buffers; the kernel's come first). A
 * client that does not read (a stalled proxy, a paused tab) would make that buffer grow without
 * end, so it is bounded twice: more than `limitBytes` waiting at two backlog checks in a row (the
 * hub's ticks, a second apart: the client had at least that long) drops the client, and more than
 * `BURST_FACTOR` times that drops it at the write. Dropped, it reconnects and starts from fresh counters; nothing is lost that the
 * routes cannot give again.
 */
export class SseClient {
  private closedBy: SseCloseReason | null = null;
  /** Over the limit at the last backlog check. */
  private behind = false;

  constructor(
    private readonly out: Writable,
    private readonly limitBytes: number,
    private readonly onClose: (client: SseClient, reason: SseCloseReason) => void,
  ) {
    out.once('close', () => this.finish('client-left'));
    // A reset connection errors the socket; the close that follows ends the stream.
    out.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.closedBy !== null;
  }

  /** Bytes written but not yet taken by the network. */
  get buffered(): number {
    return this.out.writableLength;
  }

  /** Queues one frame; false when the stream is (now) closed: it was, or this frame overflowed it. */
  send(frame: string): boolean {
    if (this.closedBy) return false;
    this.out.write(frame);
    if (this.out.writableLength > this.limitBytes * BURST_FACTOR) return this.drop();
    return true;
  }

  /** Drops the client if more than the limit waited for it at this check and the one before: it does not keep up. */
  checkBacklog(): boolean {
    if (this.closedBy) return false;
    const behind = this.out.writableLength > this.limitBytes;
    if (behind && this.behind) return this.drop();
    this.behind = behind;
    return true;
  }

  private drop(): false {
    this.finish('too-slow');
    this.out.destroy();
    return false;
  }

  /** Ends the stream after what is queued (a last frame may be given), for revocation and shutdown. */
  end(reason: SseCloseReason, lastFrame?: string): void {
    if (this.closedBy) return;
    this.finish(reason);
    if (lastFrame) this.out.end(lastFrame);
    else this.out.end();
  }

  private finish(reason: SseCloseReason): void {
    if (this.closedBy) return;
    this.closedBy = reason;
    this.onClose(this, reason);
  }
}
