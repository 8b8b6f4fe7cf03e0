// Follows a machine-state stream (native/snapshot/snapshot.h) as its bytes go
// by, without holding it: the section headers say where each section ends;
// only META (for `vmsup receive`, which must define the VM before the state
// can be restored), PASS (the pass number, for progress) and END (the
// sender's downtime) are looked into. Validation proper is the native
// restore's: this only refuses what it must understand to go on (the magic,
// a format version, META's length and CRC), and never buffers more than one
// capped META section.
import zlib from 'node:zlib';
import { VmsupError } from './protocol/errors.js';

export const SNAPSHOT_MAGIC = 'VMSUPSNP';
/** Format versions this build reads (snapshot.h kSnapshotMinVersion..kSnapshotVersion). */
export const SNAPSHOT_VERSIONS = [1, 2];
/** snapshot.h kSnapshotMetaCap + its length field. */
const META_CAP = 64 * 1024 + 4;

const tag = (s: string) => Buffer.from(s, 'latin1').readUInt32LE(0);
const T_META = tag('META');
const T_PASS = tag('PASS');
const T_END = tag('END ');

export class StreamTracker {
  /** Bytes seen so far. */
  bytes = 0;
  /** The pre-copy pass being sent (0 before the first, or in a non-live stream). */
  pass = 0;
  /** META's string, once it is complete. */
  meta?: string;
  /** END's figures (a live send's), once END went by. */
  end?: { downtimeMs: number; passes: number };
  /** Whether END's last byte went by. */
  complete = false;
  /** Bytes of the head (header + META section) once META is complete. */
  headBytes = 0;

  private head: Buffer = Buffer.alloc(0);
  /** Collecting a header (16 bytes), a section header (12), or a watched payload. */
  private state: 'header' | 'section' | 'skip' | 'payload' = 'header';
  private need = 16;
  private sectionTag = 0;
  private sectionHead: Buffer = Buffer.alloc(0);

  /** Takes the next bytes; throws VmsupError on a stream it cannot follow. */
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (this.complete) return; // trailing bytes: the native reader stops at END and never sees them
      if (this.state === 'skip') {
        const k = Math.min(this.need, chunk.length - off);
        off += k;
        this.need -= k;
        if (this.need === 0) this.next('section', 12);
        continue;
      }
      const k = Math.min(this.need - this.head.length, chunk.length - off);
      this.head = Buffer.concat([this.head, chunk.subarray(off, off + k)]);
      off += k;
      if (this.head.length < this.need) continue;
      const got = this.head;
      this.head = Buffer.alloc(0);
      this.take(got);
    }
  }

  private next(state: StreamTracker['state'], need: number): void {
    this.state = state;
    this.need = need;
  }

  private take(b: Buffer): void {
    if (this.state === 'header') {
      if (b.subarray(0, 8).toString('latin1') !== SNAPSHOT_MAGIC)
        throw new VmsupError('SNAPSHOT_FORMAT', 'the stream is not a vmsup machine state (bad magic)');
      const v = b.readUInt32LE(8);
      if (!SNAPSHOT_VERSIONS.includes(v))
        throw new VmsupError('SNAPSHOT_VERSION', `stream format version ${v} is not supported (this build reads versions ${SNAPSHOT_VERSIONS.join(', ')})`);
      return this.next('section', 12);
    }
    if (this.state === 'section') {
      this.sectionTag = b.readUInt32LE(0);
      const len = b.readUInt32LE(8);
      this.sectionHead = b;
      const watched = this.sectionTag === T_META || this.sectionTag === T_PASS || this.sectionTag === T_END;
      if (this.meta === undefined && this.sectionTag !== T_META)
        throw new VmsupError('SNAPSHOT_CORRUPT', 'the stream does not begin with its META section');
      if (watched && len > META_CAP) throw new VmsupError('SNAPSHOT_CORRUPT', 'a section of the stream is longer than its cap');
      return watched ? this.next('payload', len + 4) : this.next('skip', len + 4);
    }
    // A watched payload and its CRC.
    const payload = b.subarray(0, b.length - 4);
    const crc = zlib.crc32(payload, zlib.crc32(this.sectionHead));
    if (crc !== b.readUInt32LE(b.length - 4)) throw new VmsupError('SNAPSHOT_CORRUPT', 'the stream is corrupt (a CRC mismatch)');
    if (this.sectionTag === T_META) {
      const n = payload.length >= 4 ? payload.readUInt32LE(0) : -1;
      if (n !== payload.length - 4) throw new VmsupError('SNAPSHOT_CORRUPT', 'the stream\'s META section is malformed');
      this.meta = payload.subarray(4).toString('utf8');
      this.headBytes = this.bytes; // approximate until the chunk ends; receive uses headLength()
    } else if (this.sectionTag === T_PASS && payload.length === 4) {
      this.pass = payload.readUInt32LE(0);
    } else if (this.sectionTag === T_END) {
      if (payload.length === 16) this.end = { downtimeMs: Number(payload.readBigUInt64LE(0)) / 1000, passes: Number(payload.readBigUInt64LE(8)) };
      this.complete = true;
    }
    this.next('section', 12);
  }
}

/** A byte count for people: 1.5 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}
