// The control socket's framing: each frame is a 4-byte big-endian length and
// that many bytes of UTF-8 JSON. A frame longer than MAX_FRAME, a length of 0,
// bytes that are not JSON, or JSON that is not an object is a protocol error:
// the server closes that connection only (vmd's IMSG_SIZE_CHECK does the same
// for imsgs whose size does not match their type).
import { VmsupError } from './errors.js';

/** Largest frame either side accepts. Blocks a client that announces a huge
 * length to make the daemon buffer gigabytes before it parses anything. */
export const MAX_FRAME = 256 * 1024;

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME) throw new VmsupError('FRAME_TOO_LARGE', `frame of ${body.length} bytes exceeds ${MAX_FRAME}`);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Reassembles frames from a byte stream; throws VmsupError on a bad frame.
 * Linear in the bytes pushed: chunks are queued as they come and each byte is
 * copied at most once, when the frame it belongs to is complete (a frame
 * arriving one byte at a time costs O(n), not O(n²)). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** chunks[head] is the first with unread bytes; offset bytes of it are read. */
  private head = 0;
  private offset = 0;
  private buffered = 0;
  /** Body length of the frame being assembled, once its header is in; -1 before. */
  private need = -1;
  /** Frames completed so far (a new frame starts after each one). */
  frames = 0;

  /** Adds bytes; returns every complete frame's decoded JSON object. */
  push(chunk: Buffer): Record<string, unknown>[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Record<string, unknown>[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const len = this.take(4).readUInt32BE(0);
        if (len === 0 || len > MAX_FRAME) throw new VmsupError('BAD_FRAME', `bad frame length ${len}`);
        this.need = len;
      }
      if (this.buffered < this.need) break;
      const body = this.take(this.need);
      this.need = -1;
      this.frames++;
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        throw new VmsupError('BAD_FRAME', 'frame is not valid JSON');
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new VmsupError('BAD_FRAME', 'frame is not a JSON object');
      out.push(value as Record<string, unknown>);
    }
    return out;
  }

  /** Removes n buffered bytes (n <= buffered): a view when one chunk holds them, else one copy. */
  private take(n: number): Buffer {
    const first = this.chunks[this.head];
    let res: Buffer;
    if (first.length - this.offset >= n) {
      res = first.subarray(this.offset, this.offset + n);
      this.offset += n;
    } else {
      res = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const c = this.chunks[this.head];
        const k = Math.min(n - got, c.length - this.offset);
        c.copy(res, got, this.offset, this.offset + k);
        got += k;
        this.offset += k;
        if (this.offset === c.length) this.advance();
      }
    }
    if (this.head < this.chunks.length && this.offset === this.chunks[this.head].length) this.advance();
    this.buffered -= n;
    return res;
  }

  /** Drops the consumed chunk at head; compacts the queue now and then (amortized O(1), never a shift per chunk). */
  private advance(): void {
    this.head++;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Bytes of an incomplete frame still waiting for the rest (header included). */
  get pending(): number {
    return this.buffered + (this.need >= 0 ? 4 : 0);
  }
}
