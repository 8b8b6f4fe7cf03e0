// The CLI's side of the control socket: one connection per command, requests
// numbered from 1, answers shape-checked before use.
import fs from 'node:fs';
import net from 'node:net';
import { clientSocket } from '../daemon/paths.js';
import { groupName, peerFromCred, userName } from '../daemon/access.js';
import { VmsupError } from '../daemon/protocol/errors.js';
import { encodeFrame, FrameDecoder } from '../daemon/protocol/frames.js';
import { terminalSafe } from './format.js';
import { PAGED, parseResponse, type EventRecord, type Params, type RequestType, type Results } from '../daemon/protocol/messages.js';

/** vmctl's -v: how many; 1 says which socket is used, 2 also each request. */
let verbose = 0;
export function setVerbose(n: number): void {
  verbose = n;
}

/**
 * Why connecting to the control socket failed, and what to do about it. A
 * refused socket is said to be refused (and why, where it can be told), not
 * taken for a daemon that is not running.
 */
export function connectError(socketPath: string, e: NodeJS.ErrnoException): VmsupError {
  const at = `connect: ${socketPath}`;
  if (e.code === 'EACCES') {
    let hint = 'ask the administrator of vmsupd for access to its socket';
    try {
      const st = fs.statSync(socketPath);
      const uid = process.getuid?.() ?? -1;
      const gid = process.getgid?.() ?? -1;
      const now = new Set<number>([gid, ...(process.getgroups?.() ?? [])]);
      const listed = peerFromCred({ pid: process.pid, uid, gid }).groups.has(st.gid);
      const g = groupName(st.gid);
      if (now.has(st.gid)) hint = `the socket's mode refuses group ${g} (mode ${(st.mode & 0o777).toString(8)})`;
      else if (listed) hint = `you are in group ${g} only since you logged in: log in again (or run newgrp ${g})`;
      else hint = `the socket admits members of group ${g}, and ${userName(uid)} is not one: ask root to run usermod -aG ${g} ${userName(uid)}`;
    } catch {
      /* keep the general hint */
    }
    return new VmsupError('CONNECT', `${at}: Permission denied: vmsupd's socket refused this user`, hint);
  }
  const why = e.code === 'ENOENT' ? 'No such file or directory' : e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message;
  return new VmsupError('CONNECT', `${at}: ${why}`, 'is vmsupd running? (VMSUP_SOCKET chooses the socket)');
}

export class Client {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { type: RequestType; pages: unknown[][]; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly decoder = new FrameDecoder();
  private readonly listeners = new Map<number, (ev: EventRecord) => void>();
  /** vmsup send: the stream's chunks, by request id. */
  private readonly dataListeners = new Map<number, (data: Buffer, bytes: number, pass: number) => void>();
  /** Why the connection ended, once it has: every later request fails with it. */
  private fatal?: Error;
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = this.decoder.push(chunk);
      } catch (e) {
        this.failAll(e as Error);
        sock.destroy();
        return;
      }
      for (const f of frames) {
        let res;
        try {
          res = parseResponse(f);
        } catch (e) {
          this.failAll(e as Error);
          sock.destroy();
          return;
        }
        if ('event' in res) {
          this.listeners.get(res.id)?.(res.event);
          continue;
        }
        if ('data' in res) {
          this.dataListeners.get(res.id)?.(Buffer.from(res.data, 'base64'), res.bytes, res.pass);
          continue;
        }
        const p = this.pending.get(res.id);
        if ('page' in res) {
          // One page of a list too long for a frame (protocol PAGED): kept until the final answer.
          if (p) p.pages.push(res.page);
          continue;
        }
        if (!p) {
          // id 0: the daemon rejected a frame before it could read its id.
          if (res.id === 0 && !res.ok) {
            // Also the answer to requests not sent yet: e.g. "too many connections" on accept.
            this.fatal = new VmsupError(res.error.code, res.error.message, res.error.hint);
            this.failAll(this.fatal);
          }
          continue;
        }
        this.pending.delete(res.id);
        if (res.ok) p.resolve(p.pages.length ? joinPages(p.type, res.result, p.pages) : res.result);
        else p.reject(new VmsupError(res.error.code, res.error.message, res.error.hint));
      }
    });
    sock.on('close', () => {
      this.fatal ??= new VmsupError('DISCONNECTED', 'vmsupd closed the connection');
      this.failAll(this.fatal);
    });
    sock.on('error', (e) => this.failAll(e));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  static connect(socketPath = clientSocket()): Promise<Client> {
    return new Promise((resolve, reject) => {
      if (verbose) say(`connecting to ${socketPath}`);
      const sock = net.connect(socketPath);
      sock.once('connect', () => resolve(new Client(sock)));
      sock.once('error', (e: NodeJS.ErrnoException) => reject(connectError(socketPath, e)));
    });
  }

  /** A request whose answer streams events first (events with follow). */
  requestStream<K extends RequestType>(type: K, params: Params<K>, onEvent: (ev: EventRecord) => void): Promise<Results[K]> {
    this.listeners.set(this.nextId, onEvent);
    return this.request(type, params);
  }

  /** A request whose answer streams data chunks first (send). */
  requestData<K extends RequestType>(type: K, params: Params<K>, onData: (data: Buffer, bytes: number, pass: number) => void): Promise<Results[K]> {
    this.dataListeners.set(this.nextId, onData);
    return this.request(type, params);
  }

  /** A request and its id (receive: later receive-data requests name it). */
  begin<K extends RequestType>(type: K, params: Params<K>): { id: number; answer: Promise<Results[K]> } {
    const id = this.nextId;
    return { id, answer: this.request(type, params) };
  }

  /** Pauses or resumes reading the daemon's frames (back-pressure from a slow stdout). */
  readPause(paused: boolean): void {
    if (paused) this.sock.pause();
    else this.sock.resume();
  }

  request<K extends RequestType>(type: K, params: Params<K>): Promise<Results[K]> {
    const id = this.nextId++;
    if (verbose > 1) say(`request ${id}: ${type}`);
    return new Promise((resolve, reject) => {
      if (this.fatal) return reject(this.fatal);
      this.pending.set(id, { type, pages: [], resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(encodeFrame({ id, type, params }));
    });
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }
}

/** Puts the pages of a paged answer back into the list field the protocol names for its type. */
function joinPages(type: RequestType, result: unknown, pages: unknown[][]): unknown {
  const field = PAGED[type];
  if (!field || result === null || typeof result !== 'object' || !Array.isArray((result as Record<string, unknown>)[field]))
    throw new VmsupError('BAD_FRAME', 'unexpected response received from vmsupd');
  const r = result as Record<string, unknown[]>;
  return { ...r, [field]: pages.flat().concat(r[field]) };
}

/** Connects, makes one request, disconnects. */
export async function call<K extends RequestType>(type: K, params: Params<K>): Promise<Results[K]> {
  const c = await Client.connect();
  try {
    return await c.request(type, params);
  } finally {
    c.close();
  }
}

/** vmctl prints its status lines on stderr (warnx); so do we. */
export function say(msg: string): void {
  process.stderr.write(`vmsup: ${terminalSafe(msg)}\n`);
}

/** Pulls --json out of argv. */
export function takeJson(args: string[]): { json: boolean; rest: string[] } {
  const rest = args.filter((a) => a !== '--json');
  return { json: rest.length !== args.length, rest };
}
