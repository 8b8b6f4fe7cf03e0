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

/** Reassembles frames from a byte stream; throws VmsupError on a bad frame. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes; returns every complete frame's decoded JSON object. */
  push(chunk: Buffer): Record<string, unknown>[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Record<string, unknown>[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buf];
      const len = buf.readUInt32BE(0);
      if (len === 0 || len > MAX_FRAME) throw new VmsupError('BAD_FRAME', `bad frame length ${len}`);
      if (buf.length < 4 + len) break;
      const body = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      this.chunks = buf.length ? [buf] : [];
      this.buffered = buf.length;
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

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pending(): number {
    return this.buffered;
  }
}
