// The control server: a Unix stream socket speaking length-prefixed JSON frames
// (protocol/frames.ts). Each connection's peer uid/gid comes from SO_PEERCRED
// and goes with every request it makes. A malformed, truncated or oversized
// frame, or a flood of requests, closes that connection only.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { addon } from '../native/index.js';
import { asVmsupError, VmsupError } from './protocol/errors.js';
import { encodeFrame, FrameDecoder } from './protocol/frames.js';
import { parseRequest, type RequestType } from './protocol/messages.js';
import { peerFromCred, type Peer } from './access.js';
import type { Supervisor } from './supervisor.js';
import type { Logger } from './log.js';

/** Requests one connection may have in flight: blocks a client queuing work without reading answers. */
const MAX_INFLIGHT = 32;
/** Open connections at once: blocks a local client exhausting the daemon's file descriptors. */
const MAX_CONNECTIONS = 256;
/** A frame that stays incomplete this long is a truncated frame: the connection is closed. */
const PARTIAL_FRAME_TIMEOUT_MS = 10_000;

/** What a handler may know of its connection: a hook run when it closes. */
export interface Connection {
  onClose(fn: () => void): void;
  /** Sends one frame of a streamed answer (e.g. followed events). */
  push(frame: unknown): void;
}
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
  reset: (s, peer, p) => s.reset(peer, p),
  events: (s, peer, p, conn, id) => s.eventLog(peer, p, conn, id),
  console: (s, peer, p, conn) => s.consoleAttach(peer, p, conn),
  save: (s, peer, p) => s.save(peer, p),
  restore: (s, peer, p) => s.restore(peer, p),
};

export interface ServerOptions {
  socketPath: string;
  /** gid that owns the socket (mode 0660); -1 keeps the daemon's. */
  socketGid: number;
}

export class ControlServer {
  private server?: net.Server;
  private readonly conns = new Set<net.Socket>();

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

  private accept(sock: net.Socket): void {
    if (this.conns.size >= MAX_CONNECTIONS) {
      this.log.warn('too many connections; refusing one');
      sock.destroy();
      return;
    }
    let peer: Peer;
    try {
      const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
      peer = peerFromCred(addon().peerCred(fd));
    } catch (e) {
      this.log.warn(`connection refused: ${asVmsupError(e).message}`);
      sock.destroy();
      return;
    }
    this.conns.add(sock);
    const decoder = new FrameDecoder();
    const closers: (() => void)[] = [];
    const conn: Connection = {
      onClose: (fn) => {
        if (sock.destroyed) fn();
        else closers.push(fn);
      },
      push: (frame) => {
        // A follower that stops reading must not make the daemon buffer without bound.
        if (sock.writableLength > 1024 * 1024) drop('event stream reader too slow');
        else this.reply(sock, frame);
      },
    };
    let inflight = 0;
    let partialTimer: NodeJS.Timeout | undefined;
    const drop = (why: string) => {
      this.log.debug(`closing connection of uid ${peer.uid} (pid ${peer.pid}): ${why}`);
      clearTimeout(partialTimer);
      sock.destroy();
    };
    sock.on('close', () => {
      clearTimeout(partialTimer);
      this.conns.delete(sock);
      for (const fn of closers.splice(0)) fn();
    });
    sock.on('error', () => undefined);
    sock.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        this.reply(sock, { id: 0, ok: false, error: errorBody(e) });
        drop(asVmsupError(e).message);
        return;
      }
      clearTimeout(partialTimer);
      if (decoder.pending > 0) partialTimer = setTimeout(() => drop('truncated frame'), PARTIAL_FRAME_TIMEOUT_MS);
      for (const f of frames) {
        let req;
        try {
          req = parseRequest(f);
        } catch (e) {
          this.reply(sock, { id: typeof f.id === 'number' ? f.id : 0, ok: false, error: errorBody(e) });
          drop(asVmsupError(e).message);
          return;
        }
        if (++inflight > MAX_INFLIGHT) {
          drop('too many requests in flight');
          return;
        }
        this.log.debug(`uid ${peer.uid}: ${req.type} ${JSON.stringify(req.params)}`);
        HANDLERS[req.type](this.sup, peer, req.params, conn, req.id).then(
          (result) => {
            inflight--;
            this.reply(sock, { id: req.id, ok: true, result });
          },
          (e) => {
            inflight--;
            this.reply(sock, { id: req.id, ok: false, error: errorBody(e) });
          },
        );
      }
    });
  }

  private reply(sock: net.Socket, frame: unknown): void {
    if (sock.destroyed) return; // the client left: its answer has nowhere to go
    try {
      sock.write(encodeFrame(frame));
    } catch (e) {
      this.log.warn(`cannot answer: ${asVmsupError(e).message}`);
      sock.destroy();
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function errorBody(e: unknown): { code: string; message: string; hint?: string } {
  const err = asVmsupError(e);
  return err.hint ? { code: err.code, message: err.message, hint: err.hint } : { code: err.code, message: err.message };
}
