// The control server: a Unix stream socket speaking length-prefixed JSON frames
// (protocol/frames.ts). Each connection's peer uid/gid comes from SO_PEERCRED
// and goes with every request it makes. A malformed, truncated or oversized
// frame, or a flood of requests, closes that connection only.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { addon } from '../native/index.js';
import { asVmsupError, VmsupError } from './protocol/errors.js';
import { encodeFrame, FrameDecoder, MAX_FRAME } from './protocol/frames.js';
import { PAGED, parseRequest, type DaemonStats, type RequestType } from './protocol/messages.js';
import { requestScope } from './request-scope.js';
import { isRoot, peerFromCred, type Peer } from './access.js';
import type { Supervisor } from './supervisor.js';
import { receiveData, receiveVm, sendVm } from './migrate.js';
import type { Connection } from './connection.js';
import type { Logger } from './log.js';

/** Requests one connection may have in flight, counted until the answer is
 * written to the socket: blocks a client queuing work without reading answers. */
const MAX_INFLIGHT = 32;
/** Long-lived requests (wait, stop -w, start, events -f) one connection may hold:
 * each pins a waiter in the supervisor until the VM moves or the client leaves. */
const MAX_LONG_LIVED = 8;
/** Open connections of non-root users together: blocks a local client exhausting the
 * daemon's file descriptors. Each user also has the `connections_per_user` setting. */
const MAX_CONNECTIONS = 256;
/** Root's own reserve, not shared with anyone: root always gets in to repair things. */
const MAX_ROOT_CONNECTIONS = 64;
/** A refused connection is kept half-open this long so that its client reads why. */
const REFUSED_LINGER_MS = 2000;
const MAX_REFUSED_LINGERING = 64;
/** A frame must be complete this long after its first byte arrived: one deadline per
 * frame (a trickle of bytes does not extend it), or the connection is closed. */
const PARTIAL_FRAME_TIMEOUT_MS = 10_000;
/** Answer bytes queued for one connection beyond which the daemon stops reading its
 * requests until the client has read: bounds the memory a non-reading client pins. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** A followed event stream may queue this much for a slow reader before it is closed
 * (enough for the largest backlog, `events -f -n 10000`). */
const MAX_STREAM_QUEUED_BYTES = 4 * 1024 * 1024;
/** A client that leaves answers unread this long while the daemon waits for it to read is closed. */
const WRITE_STALL_MS = 30_000;
/** How long close() lets a connection take the answers it has queued (a cancelled send's error). */
const CLOSE_FLUSH_MS = 5000;

/** Requests that hold their answer until something happens (they count against MAX_LONG_LIVED). */
function isLongLived(type: RequestType, params: Record<string, unknown>): boolean {
  return (
    type === 'wait' ||
    type === 'start' ||
    (type === 'stop' && (params.wait === true || params.force === true)) ||
    (type === 'events' && params.follow === true) ||
    type === 'send' ||
    type === 'receive'
  );
}

export type { Connection } from './connection.js';
type Handler = (sup: Supervisor, peer: Peer, params: any, conn: Connection, id: number) => Promise<unknown>;

const HANDLERS: Record<RequestType, Handler> = {
  status: (s, peer, p) => s.status(peer, p),
  define: (s, peer, p) => s.define(peer, p),
  undefine: (s, peer, p) => s.undefine(peer, p),
  enable: (s, peer, p) => s.setEnabled(peer, p, true),
  disable: (s, peer, p) => s.setEnabled(peer, p, false),
  start: (s, peer, p) => s.start(peer, p),
  stop: (s, peer, p) => s.stop(peer, p),
  pause: (s, peer, p) => s.pause(peer, p, true),
  unpause: (s, peer, p) => s.pause(peer, p, false),
  wait: (s, peer, p) => s.wait(peer, p),
  log: (s, peer, p) => s.setLog(peer, p),
  reload: (s, peer) => s.reload(peer),
  configure: (s, peer, p) => s.configure(peer, p),
  reset: (s, peer, p) => s.reset(peer, p),
  events: (s, peer, p, conn, id) => s.eventLog(peer, p, conn, id),
  console: (s, peer, p, conn) => s.consoleAttach(peer, p, conn),
  metrics: (s, peer, p) => s.metrics(peer, p),
  'web-login': (s, peer) => s.webLogin(peer),
  // Answered by ControlServer itself (it knows the connections).
  stats: () => Promise.reject(new VmsupError('INTERNAL', 'stats is answered by the server')),
  save: (s, peer, p) => s.save(peer, p),
  restore: (s, peer, p) => s.restore(peer, p),
  send: (s, peer, p, conn, id) => sendVm(s, peer, p, conn, id),
  receive: (s, peer, p, conn, id) => receiveVm(s, peer, p, conn, id),
  'receive-data': (s, peer, p, conn) => receiveData(peer, p, conn),
  'switch-create': (s, peer, p) => s.switchCreate(peer, p),
  'switch-delete': (s, peer, p) => s.switchDelete(peer, p),
  'switch-status': (s, peer) => s.switchStatus(peer),
};

export interface ServerOptions {
  socketPath: string;
  /** gid that owns the socket (mode 0660); -1 keeps the daemon's. */
  socketGid: number;
}

/** One client connection's bookkeeping. */
interface ConnState {
  sock: net.Socket;
  peer: Peer;
  longLived: number;
}

export class ControlServer {
  private server?: net.Server;
  private readonly conns = new Set<ConnState>();
  /** Open connections per uid (root's included). */
  private readonly byUid = new Map<number, number>();
  private nonRoot = 0;
  /** Refused connections still being told why. */
  private lingering = 0;
  private refusedLoggedAt = 0;
  private refusedSinceLog = 0;

  constructor(
    private readonly sup: Supervisor,
    private readonly log: Logger,
  ) {}

  async listen(opts: ServerOptions): Promise<void> {
    const dir = path.dirname(opts.socketPath);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    await this.removeStale(opts.socketPath);
    const server = net.createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(opts.socketPath, 0o660);
    if (opts.socketGid >= 0) fs.chownSync(opts.socketPath, process.getuid?.() ?? 0, opts.socketGid);
  }

  /** A socket file nobody answers on is left over from a crash: remove it. */
  private async removeStale(p: string): Promise<void> {
    if (!fs.existsSync(p)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const c = net.connect(p);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (alive) throw new VmsupError('RUNNING', `another vmsupd is listening on ${p}`);
    fs.unlinkSync(p);
  }

  /** What the daemon holds for its clients right now (the root-only `stats` request). */
  stats(): DaemonStats {
    const byUid: Record<string, number> = {};
    for (const [uid, n] of this.byUid) byUid[String(uid)] = n;
    let longLived = 0;
    for (const c of this.conns) longLived += c.longLived;
    return { connections: this.conns.size, connectionsByUid: byUid, longLived, ...this.sup.waiterStats() };
  }

  /** Admission: root within its own reserve; anyone else within their own share and the shared total. */
  private admit(peer: Peer): string | undefined {
    const mine = this.byUid.get(peer.uid) ?? 0;
    if (isRoot(peer)) return mine >= MAX_ROOT_CONNECTIONS ? 'too many root connections' : undefined;
    if (mine >= this.sup.settings.connectionsPerUser) return `uid ${peer.uid} has too many connections`;
    if (this.nonRoot >= MAX_CONNECTIONS) return 'too many connections';
    return undefined;
  }

  private accept(sock: net.Socket): void {
    let peer: Peer;
    try {
      const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
      peer = peerFromCred(addon().peerCred(fd));
    } catch (e) {
      this.log.warn(`connection refused: ${asVmsupError(e).message}`);
      sock.destroy();
      return;
    }
    const refused = this.admit(peer);
    if (refused) {
      // One line per 10 s at most: a client hammering the socket must not fill the log.
      this.refusedSinceLog++;
      if (Date.now() - this.refusedLoggedAt >= 10_000) {
        this.log.warn(`${refused}; refused ${this.refusedSinceLog} connection(s) since the last such line (pid ${peer.pid})`);
        this.refusedLoggedAt = Date.now();
        this.refusedSinceLog = 0;
      }
      // Said once: the client reads it as the answer to its first request. Only our side is
      // shut, so that request can still be written (no EPIPE hiding the reason); the socket
      // is gone when the client closes or after REFUSED_LINGER_MS, and at most
      // MAX_REFUSED_LINGERING of them wait at once.
      sock.on('error', () => undefined);
      sock.on('data', () => undefined);
      sock.end(encodeFrame({ id: 0, ok: false, error: { code: 'ERR_VMSUP_TOO_MANY_CONNECTIONS', message: refused } }));
      if (this.lingering >= MAX_REFUSED_LINGERING) {
        sock.destroySoon();
        return;
      }
      this.lingering++;
      const t = setTimeout(() => sock.destroy(), REFUSED_LINGER_MS);
      sock.once('close', () => {
        clearTimeout(t);
        this.lingering--;
      });
      return;
    }
    const st: ConnState = { sock, peer, longLived: 0 };
    this.conns.add(st);
    this.byUid.set(peer.uid, (this.byUid.get(peer.uid) ?? 0) + 1);
    if (!isRoot(peer)) this.nonRoot++;

    const decoder = new FrameDecoder();
    const closers: (() => void)[] = [];
    // Aborted when the connection closes: every waiter a request holds goes with it.
    const abort = new AbortController();
    setMaxListeners(100_000, abort.signal);
    const scope = { signal: abort.signal };
    let inflight = 0;
    /** A console claim or a followed stream: the connection is in use with no request to show for it. */
    let streaming = false;
    let partialTimer: NodeJS.Timeout | undefined;
    let partialFrames = -1; // decoder.frames when the partial frame's deadline was set
    let idleTimer: NodeJS.Timeout | undefined;
    let stallTimer: NodeJS.Timeout | undefined;
    let readingPaused = false;
    const drainWaiters: (() => void)[] = [];

    const drop = (why: string) => {
      if (sock.destroyed) return;
      this.log.debug(`closing connection of uid ${peer.uid} (pid ${peer.pid}): ${why}`);
      sock.destroy();
    };
    const conn: Connection = {
      onClose: (fn) => {
        if (sock.destroyed) fn();
        else closers.push(fn);
      },
      push: (frame) => {
        streaming = true;
        // A follower that stops reading must not make the daemon buffer without bound.
        if (sock.writableLength > MAX_STREAM_QUEUED_BYTES) drop('event stream reader too slow');
        else this.write(sock, frame);
      },
      pushWait: async (frame) => {
        streaming = true;
        this.write(sock, frame);
        if (sock.writableLength > MAX_QUEUED_BYTES) await drained();
        if (sock.destroyed) throw new VmsupError('DISCONNECTED', 'the client left');
      },
    };
    /** Idle: nothing in flight, no stream, no partial frame. Such a connection gets idle_timeout seconds. */
    const checkIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = undefined;
      if (inflight === 0 && !streaming && decoder.pending === 0 && !sock.destroyed)
        idleTimer = setTimeout(() => drop('idle'), this.sup.settings.idleTimeout * 1000);
    };
    /** Backpressure: over MAX_QUEUED_BYTES, stop reading requests until the client reads answers. */
    const checkQueue = () => {
      if (sock.writableLength > MAX_QUEUED_BYTES && !readingPaused) {
        readingPaused = true;
        sock.pause();
        stallTimer = setTimeout(() => drop('answers left unread'), WRITE_STALL_MS);
      }
    };
    sock.on('drain', () => {
      if (readingPaused) {
        readingPaused = false;
        clearTimeout(stallTimer);
        sock.resume();
      }
      for (const fn of drainWaiters.splice(0)) fn();
    });
    const drained = () => new Promise<void>((r) => (sock.destroyed ? r() : drainWaiters.push(r)));
    sock.on('close', () => {
      clearTimeout(partialTimer);
      clearTimeout(idleTimer);
      clearTimeout(stallTimer);
      this.conns.delete(st);
      const n = (this.byUid.get(peer.uid) ?? 1) - 1;
      if (n > 0) this.byUid.set(peer.uid, n);
      else this.byUid.delete(peer.uid);
      if (!isRoot(peer)) this.nonRoot--;
      abort.abort();
      for (const fn of drainWaiters.splice(0)) fn();
      for (const fn of closers.splice(0)) fn();
    });
    sock.on('error', () => undefined);
    checkIdle();

    /** Writes a request's answer (paged when its list outgrows a frame); the request stops
     * counting as in flight only when the last byte has left for the socket. */
    const answer = async (id: number, type: RequestType, frame: { id: number; ok: boolean; result?: unknown; error?: unknown }) => {
      try {
        const bufs = frame.ok ? this.encodeAnswer(id, type, frame.result) : [encodeFrame(frame)];
        for (let i = 0; i < bufs.length && !sock.destroyed; i++) {
          const last = i === bufs.length - 1;
          if (!last && sock.writableLength > MAX_QUEUED_BYTES) {
            checkQueue();
            await drained();
            if (sock.destroyed) break;
          }
          if (last) {
            await new Promise<void>((r) => sock.write(bufs[i], () => r()));
          } else sock.write(bufs[i]);
          checkQueue();
        }
      } catch (e) {
        this.log.warn(`cannot answer ${type}: ${asVmsupError(e).message}`);
        drop('cannot answer');
      } finally {
        inflight--;
        checkIdle();
      }
    };

    sock.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        this.write(sock, { id: 0, ok: false, error: errorBody(e) });
        drop(asVmsupError(e).message);
        return;
      }
      // One deadline per frame: set when a frame starts, kept while it trickles in.
      if (decoder.pending === 0 || decoder.frames !== partialFrames) {
        clearTimeout(partialTimer);
        partialTimer = undefined;
      }
      if (decoder.pending > 0 && partialTimer === undefined) {
        partialFrames = decoder.frames;
        partialTimer = setTimeout(() => drop('truncated frame'), PARTIAL_FRAME_TIMEOUT_MS);
      }
      for (const f of frames) {
        let req;
        try {
          req = parseRequest(f);
        } catch (e) {
          this.write(sock, { id: typeof f.id === 'number' ? f.id : 0, ok: false, error: errorBody(e) });
          drop(asVmsupError(e).message);
          return;
        }
        if (++inflight > MAX_INFLIGHT) {
          drop('too many requests in flight');
          return;
        }
        const id = req.id;
        const type = req.type;
        // Guarded: under a flood the JSON of every request would be built for nothing.
        if (this.log.verbose) this.log.debug(`uid ${peer.uid}: ${type} ${JSON.stringify(req.params)}`);
        const long = isLongLived(type, req.params as Record<string, unknown>);
        let work: Promise<unknown>;
        if (long && st.longLived >= MAX_LONG_LIVED) {
          work = Promise.reject(
            new VmsupError('TOO_MANY_WAITS', `too many waiting requests on one connection (at most ${MAX_LONG_LIVED})`),
          );
        } else if (type === 'stats') {
          work = isRoot(peer)
            ? Promise.resolve(this.stats())
            : Promise.reject(new VmsupError('PERMISSION', 'permission denied: only root may see the daemon statistics'));
        } else {
          if (long) st.longLived++;
          work = requestScope.run(scope, () => HANDLERS[type](this.sup, peer, req.params, conn, id));
          if (long) work = work.finally(() => st.longLived--);
        }
        if (type === 'console') work = work.then((r) => ((streaming = true), r));
        clearTimeout(idleTimer);
        idleTimer = undefined;
        work.then(
          (result) => answer(id, type, { id, ok: true, result }),
          (e) => answer(id, type, { id, ok: false, error: errorBody(e) }),
        );
      }
    });
  }

  /** The frames of a successful answer: one, or for a PAGED type whose list is too long
   * for a frame, pages of that list ({id, page}) and then the result with the list empty. */
  private encodeAnswer(id: number, type: RequestType, result: unknown): Buffer[] {
    const whole = JSON.stringify({ id, ok: true, result });
    if (Buffer.byteLength(whole) <= MAX_FRAME) return [frameOf(whole)];
    const field = PAGED[type];
    const list = field && result !== null && typeof result === 'object' ? (result as Record<string, unknown>)[field] : undefined;
    if (!field || !Array.isArray(list)) throw new VmsupError('FRAME_TOO_LARGE', `answer of ${whole.length} bytes exceeds ${MAX_FRAME}`);
    const head = `{"id":${id},"page":[`;
    const room = MAX_FRAME - Buffer.byteLength(head) - 2;
    const out: Buffer[] = [];
    let items: string[] = [];
    let bytes = 0;
    for (const item of list) {
      const s = JSON.stringify(item);
      const n = Buffer.byteLength(s) + 1;
      if (n > room) throw new VmsupError('FRAME_TOO_LARGE', `one ${field} entry exceeds ${MAX_FRAME} bytes`);
      if (bytes + n > room) {
        out.push(frameOf(head + items.join(',') + ']}'));
        items = [];
        bytes = 0;
      }
      items.push(s);
      bytes += n;
    }
    if (items.length) out.push(frameOf(head + items.join(',') + ']}'));
    out.push(encodeFrame({ id, ok: true, result: { ...(result as object), [field]: [] } }));
    return out;
  }

  /** Writes one frame unless the client has left; an unencodable frame closes the connection. */
  private write(sock: net.Socket, frame: unknown): void {
    if (sock.destroyed) return; // the client left: its answer has nowhere to go
    try {
      sock.write(encodeFrame(frame));
    } catch (e) {
      this.log.warn(`cannot answer: ${asVmsupError(e).message}`);
      sock.destroy();
    }
  }

  async close(): Promise<void> {
    // A connection with answers still queued (a send SIGTERM cancelled: its error sits behind
    // the data frames) reads no more requests and gets a few seconds to take them.
    for (const c of this.conns) {
      if (c.sock.writableLength === 0) c.sock.destroy();
      else {
        c.sock.pause();
        c.sock.end();
        setTimeout(() => c.sock.destroy(), CLOSE_FLUSH_MS).unref();
      }
    }
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** A frame from JSON text already known to fit. */
function frameOf(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

function errorBody(e: unknown): { code: string; message: string; hint?: string } {
  const err = asVmsupError(e);
  return err.hint ? { code: err.code, message: err.message, hint: err.hint } : { code: err.code, message: err.message };
}
