// vmsup send / receive (vmctl's): a VM's machine state streamed over the
// control connection, so that `vmsup send a | vmsup receive b` and
// `vmsup send a | ssh host vmsup receive a` move a VM.
//
// Between the VM's worker and the client there is one kernel pipe (a blocking
// pipe2, 1 MiB where the kernel allows): the worker's save or restore blocks
// on it, the daemon's event loop moves its bytes to or from the socket. The
// daemon holds at most one socket's worth of queued answer bytes (pushWait)
// on the send side and a client's window of receive-data chunks on the other,
// never a RAM image: a slow reader slows the worker, not the daemon's heap.
//
// send:    {id, data, bytes, pass} frames (data base64), then the answer; the
//          VM is stopped once the last byte left. --live: the worker's
//          pre-copy (workers/live-send.ts) while the guest runs.
// receive: the answer waits; the client sends receive-data requests naming
//          the receive's id, each answered once its bytes are in the pipe.
//          META (the first section) says how to define the VM when it is new.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { addon } from '../native/index.js';
import type { Peer } from './access.js';
import { asVmsupError, VmsupError } from './protocol/errors.js';
import { checkVmName, RECEIVE_CHUNK_BYTES, type Params, type Results } from './protocol/messages.js';
import type { Connection } from './connection.js';
import type { Supervisor } from './supervisor.js';
import { StreamTracker } from './migrate-stream.js';
import { parseMigrateMeta } from './snapshot.js';

/** A client that reads nothing of a send for this long loses it (the VM goes on as before). */
const SEND_STALL_MS = 60_000;
/** A receive with no chunk for this long fails (its VM, if it was defined for it, is removed). */
const RECEIVE_IDLE_MS = 60_000;
/** Bytes a receive holds before its META is parsed (header + a capped META section). */
const HEAD_CAP = 16 + 12 + 64 * 1024 + 4 + 4 + RECEIVE_CHUNK_BYTES;

/** Open receives per connection, by the receive request's id. */
const sessions = new WeakMap<Connection, Map<number, ReceiveSession>>();

function pipe(): [number, number] {
  return addon().pipeCreate();
}

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new VmsupError('TIMEOUT', why)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** Sends in progress: SIGTERM cancels them (cancelSends) before the connections close. */
const activeSends = new Set<{ cancel: (e: VmsupError) => void; settled: Promise<unknown> }>();
let shuttingDown = false;

/**
 * SIGTERM, before the control connections close: every send whose last byte is
 * not yet out fails with `why` (its client gets that error, its receiver a
 * truncated stream) and its VM stays here, as it was before the send, for the
 * shutdown to save or stop like any other. Resolves once their answers are written
 * (at most `ms`).
 */
export async function cancelSends(why: string, ms = 10_000): Promise<void> {
  shuttingDown = true;
  const jobs = [...activeSends];
  if (!jobs.length) return;
  for (const j of jobs) j.cancel(new VmsupError('SHUTDOWN', why));
  await withTimeout(Promise.allSettled(jobs.map((j) => j.settled)), ms, 'sends did not end').catch(() => undefined);
  // The server writes each answer once its handler has settled: let it.
  await new Promise((r) => setImmediate(r));
}

export async function sendVm(sup: Supervisor, peer: Peer, p: Params<'send'>, conn: Connection, id: number): Promise<Results['send']> {
  if (shuttingDown) throw new VmsupError('SHUTDOWN', 'send vm command failed: vmsupd is shutting down');
  let settle!: () => void;
  const entry = { cancel: (_e: VmsupError) => undefined as void, settled: new Promise<void>((r) => (settle = r)) };
  activeSends.add(entry);
  try {
    return await sendVmIn(sup, peer, p, conn, id, entry);
  } finally {
    activeSends.delete(entry);
    settle();
  }
}

async function sendVmIn(
  sup: Supervisor,
  peer: Peer,
  p: Params<'send'>,
  conn: Connection,
  id: number,
  entry: { cancel: (e: VmsupError) => void },
): Promise<Results['send']> {
  const live = p.live === true;
  const [rfd, wfd] = pipe();
  const reader = new net.Socket({ fd: rfd, readable: true, writable: false });
  reader.on('error', () => undefined);
  const tracker = new StreamTracker();
  let lastByteAt = 0;
  let pumpError: VmsupError | undefined;
  let stopPump!: (e: VmsupError) => void;
  const stopped = new Promise<never>((_, reject) => (stopPump = reject));
  stopped.catch(() => undefined);
  const t0 = Date.now();
  const pump = (async () => {
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      try {
        tracker.push(chunk);
      } catch {
        /* our own worker's stream: progress figures only */
      }
      const sent = withTimeout(conn.pushWait({ id, data: chunk.toString('base64'), bytes: tracker.bytes, pass: tracker.pass }), SEND_STALL_MS, 'the client stopped reading');
      sent.catch(() => undefined);
      await Promise.race([sent, stopped]);
    }
    lastByteAt = Date.now();
  })().catch((e) => {
    pumpError ??= asVmsupError(e);
    reader.destroy(); // the worker's next write fails (EPIPE): the send fails, the VM goes on
  });
  // A shutdown: unless every byte is already out (then the send completes), the
  // pump stops at once, even while a slow client holds it.
  entry.cancel = (e) => {
    if (lastByteAt) return;
    pumpError = e;
    stopPump(e);
    reader.destroy();
  };
  let job: Awaited<ReturnType<Supervisor['sendState']>>;
  try {
    job = await sup.sendState(peer, p.vm, wfd, live);
  } catch (e) {
    addon().closeFd(wfd);
    reader.destroy();
    await pump;
    const err = asVmsupError(e);
    throw new VmsupError(err.code, err.message.startsWith('send') ? err.message : `send vm command failed: ${err.message}`, err.hint);
  }
  addon().closeFd(wfd); // the worker is done with it: the reader sees the end
  await pump;
  const m = job.m;
  if (pumpError?.code === 'ERR_VMSUP_SHUTDOWN') {
    // Not sent: the VM stays here, for the shutdown to save (or stop) as it was before the send.
    await sup.sendFinished(job.vmId, false, job.wasRunning, '', true);
    throw new VmsupError(pumpError.code, `send vm command failed: ${pumpError.message}`);
  }
  if (m.type !== 'saved' && m.type !== 'live-sent') {
    await sup.sendFinished(job.vmId, false, job.wasRunning, '');
    const why = pumpError && pumpError.code !== 'ERR_VMSUP_INTERNAL' ? pumpError.message : m.type === 'save-failed' ? m.message : 'the vm stopped';
    throw new VmsupError(m.type === 'save-failed' ? m.code : 'SEND', `send vm command failed: ${why}; the vm was not stopped`);
  }
  if (pumpError) {
    await sup.sendFinished(job.vmId, false, job.wasRunning, '');
    throw new VmsupError(pumpError.code, `send vm command failed: ${pumpError.message}; the vm was not stopped`);
  }
  // Downtime: from the pause to the last byte handed to the client's socket.
  const downtimeMs = m.type === 'live-sent' ? m.downtimeMs + Math.max(0, lastByteAt - job.doneAt) : lastByteAt - job.pausedAt;
  const passes = m.type === 'live-sent' ? m.passes : 0;
  const vm = await sup.sendFinished(
    job.vmId,
    true,
    job.wasRunning,
    `sent by vmsup send${live ? ' --live' : ''} (${tracker.bytes} bytes${live ? `, ${passes} passes` : ''}, downtime ${downtimeMs} ms)`,
  );
  return { vm, bytes: tracker.bytes, ms: Date.now() - t0, downtimeMs, passes };
}

/** One receive in progress: its stream's bytes, until they are in the VM's pipe. */
class ReceiveSession {
  readonly tracker = new StreamTracker();
  failed?: VmsupError;
  /** When END's last byte arrived (the receive side's downtime runs from here). */
  endAt?: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writer?: net.Socket;
  private endRequested = false;
  private idle?: NodeJS.Timeout;
  /** The stream kept in an unlinked file (the VM's disks were still the sender's). */
  private spoolFd?: number;
  private spoolBytes = 0;
  private spoolCap = 0;
  private spoolDone?: () => void;
  private headWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private attachWaiters: (() => void)[] = [];

  constructor() {
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idle);
    if (this.endAt !== undefined) return;
    this.idle = setTimeout(() => this.fail(new VmsupError('TIMEOUT', `no data for ${RECEIVE_IDLE_MS / 1000} s`)), RECEIVE_IDLE_MS);
  }

  /** Resolves once META is in. */
  head(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.tracker.meta !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => this.headWaiters.push({ resolve, reject }));
  }

  fail(e: VmsupError): void {
    if (this.failed) return;
    this.failed = e;
    clearTimeout(this.idle);
    for (const w of this.headWaiters.splice(0)) w.reject(e);
    for (const w of this.attachWaiters.splice(0)) w();
    this.writer?.destroy(); // the restore reads an end: a truncated stream, a clear error
    this.spoolDone?.();
  }

  close(): void {
    clearTimeout(this.idle);
    if (this.writer && !this.writer.destroyed) this.writer.end();
    if (this.spoolFd !== undefined) fs.closeSync(this.spoolFd);
    this.spoolFd = undefined;
  }

  /**
   * The VM's disks are still held by its sender (a send on this same host
   * keeps them until its last byte is out, and would wait for us forever):
   * the rest of the stream goes into an unlinked file, at most `cap` bytes,
   * and this resolves when it has all arrived. open() then hands that file out.
   */
  spool(cap: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const file = path.join(os.tmpdir(), `vmsupd-receive-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    fs.unlinkSync(file);
    this.spoolFd = fd;
    this.spoolCap = cap;
    const done = new Promise<void>((resolve, reject) => {
      this.spoolDone = () => (this.failed ? reject(this.failed) : resolve());
    });
    try {
      for (const b of this.pending.splice(0)) this.spoolWrite(b);
    } catch (e) {
      this.fail(asVmsupError(e));
    }
    this.pendingBytes = 0;
    if (this.tracker.complete || this.endRequested) this.spoolDone?.();
    for (const r of this.attachWaiters.splice(0)) r();
    return done;
  }

  private spoolWrite(b: Buffer): void {
    if (this.spoolBytes + b.length > this.spoolCap) throw new VmsupError('RECEIVE', 'the stream is longer than the vm\'s memory allows');
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.spoolFd!, b, off, b.length - off, this.spoolBytes + off);
    this.spoolBytes += b.length;
  }

  /** The descriptor the restore reads: a new pipe fed from here on, or the spooled file. The caller owns it. */
  open(): number {
    if (this.spoolFd !== undefined) {
      const fd = this.spoolFd;
      this.spoolFd = undefined;
      return fd;
    }
    const [rfd, wfd] = pipe();
    this.attach(wfd);
    return rfd;
  }

  /** Bytes from the client; resolves when they are in the pipe (the client's window moves on). */
  async push(buf: Buffer, end: boolean): Promise<void> {
    if (this.failed) throw this.failed;
    this.touch();
    if (buf.length) {
      try {
        this.tracker.push(buf);
      } catch (e) {
        this.fail(asVmsupError(e));
        throw this.failed!;
      }
      if (this.tracker.complete && this.endAt === undefined) {
        this.endAt = Date.now();
        clearTimeout(this.idle); // all of it is here: the restore finishes without the client
      }
    }
    if (end) this.endRequested = true;
    if (this.spoolFd !== undefined) {
      try {
        if (buf.length) this.spoolWrite(buf);
      } catch (e) {
        this.fail(asVmsupError(e));
        throw this.failed!;
      }
      if (this.tracker.complete || this.endRequested) this.spoolDone?.();
      return;
    }
    if (!this.writer) {
      if (this.tracker.meta === undefined) {
        this.pending.push(buf);
        this.pendingBytes += buf.length;
        if (this.pendingBytes > HEAD_CAP) this.fail(new VmsupError('SNAPSHOT_CORRUPT', 'the stream has no META section where it should'));
        if (end) this.fail(new VmsupError('SNAPSHOT_CORRUPT', 'the stream ended before its META section'));
        if (this.failed) throw this.failed;
        return;
      }
      for (const w of this.headWaiters.splice(0)) w.resolve();
      if (buf.length) {
        this.pending.push(buf);
        this.pendingBytes += buf.length;
      }
      // Held here (not buffered further) until the VM's pipe or the spool file exists.
      await new Promise<void>((r) => (this.writer || this.failed || this.spoolFd !== undefined ? r() : this.attachWaiters.push(r)));
      if (this.failed) throw this.failed;
      return;
    }
    await this.write(buf);
    if (end) this.writer.end();
  }

  private write(buf: Buffer): Promise<void> {
    const w = this.writer!;
    if (!buf.length) return Promise.resolve();
    return new Promise((resolve, reject) =>
      w.write(buf, (err) => (err ? reject(this.failed ?? new VmsupError('RECEIVE', 'the receiving vm stopped reading')) : resolve())),
    );
  }

  /** The VM's pipe: the held bytes go first. */
  private attach(wfd: number): void {
    const w = new net.Socket({ fd: wfd, readable: false, writable: true });
    w.on('error', () => this.fail(new VmsupError('RECEIVE', 'the receiving vm stopped reading its state')));
    this.writer = w;
    for (const b of this.pending.splice(0)) w.write(b);
    this.pendingBytes = 0;
    if (this.endRequested) w.end();
    for (const r of this.attachWaiters.splice(0)) r();
  }
}

export async function receiveVm(sup: Supervisor, peer: Peer, p: Params<'receive'>, conn: Connection, id: number): Promise<Results['receive']> {
  checkVmName(p.name);
  let mine = sessions.get(conn);
  if (!mine) sessions.set(conn, (mine = new Map()));
  if (mine.size >= 4) throw new VmsupError('BUSY', 'receive command failed: too many receives on one connection');
  const session = new ReceiveSession();
  mine.set(id, session);
  conn.onClose(() => session.fail(new VmsupError('DISCONNECTED', 'the client left')));
  const t0 = Date.now();
  try {
    await session.head();
    const meta = parseMigrateMeta(session.tracker.meta!, 'the stream');
    const source = {
      open: () => session.open(),
      spool: () => session.spool(meta.memory * 4 + (64 << 20)),
    };
    const res = await sup.receiveState(peer, p.name, meta, source, p.force === true, () => session.failed, `received by vmsup receive`);
    const resumedAt = Date.now();
    const end = session.tracker.end;
    const resumeMs = session.endAt !== undefined ? resumedAt - session.endAt : 0;
    return {
      vm: res.vm,
      bytes: session.tracker.bytes,
      ms: resumedAt - t0,
      downtimeMs: end ? Math.round(end.downtimeMs + resumeMs) : null,
      resumeMs,
      passes: end?.passes ?? 0,
      defined: res.defined,
    };
  } catch (e) {
    const err = asVmsupError(e);
    session.fail(err);
    throw new VmsupError(err.code, err.message.startsWith('receive') ? err.message : `receive command failed: ${err.message}`, err.hint);
  } finally {
    session.close();
    mine.delete(id);
  }
}

export async function receiveData(peer: Peer, p: Params<'receive-data'>, conn: Connection): Promise<Results['receive-data']> {
  const session = sessions.get(conn)?.get(p.stream);
  if (!session) throw new VmsupError('NO_STREAM', `no receive ${p.stream} in progress on this connection`);
  const buf = p.data ? Buffer.from(p.data, 'base64') : Buffer.alloc(0);
  if (buf.length > RECEIVE_CHUNK_BYTES) throw new VmsupError('BAD_REQUEST', 'malformed request: a receive-data chunk is too long');
  await session.push(buf, p.end === true);
  return { bytes: session.tracker.bytes };
}
