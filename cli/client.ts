// The CLI's side of the control socket: one connection per command, requests
// numbered from 1, answers shape-checked before use.
import net from 'node:net';
import { clientSocket } from '../daemon/paths.js';
import { VmsupError } from '../daemon/protocol/errors.js';
import { encodeFrame, FrameDecoder } from '../daemon/protocol/frames.js';
import { terminalSafe } from './format.js';
import { parseResponse, type EventRecord, type Params, type RequestType, type Results } from '../daemon/protocol/messages.js';

export class Client {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly decoder = new FrameDecoder();
  private readonly listeners = new Map<number, (ev: EventRecord) => void>();
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
        const p = this.pending.get(res.id);
        if (!p) {
          // id 0: the daemon rejected a frame before it could read its id.
          if (res.id === 0 && !res.ok) this.failAll(new VmsupError(res.error.code, res.error.message, res.error.hint));
          continue;
        }
        this.pending.delete(res.id);
        if (res.ok) p.resolve(res.result);
        else p.reject(new VmsupError(res.error.code, res.error.message, res.error.hint));
      }
    });
    sock.on('close', () => this.failAll(new VmsupError('DISCONNECTED', 'vmsupd closed the connection')));
    sock.on('error', (e) => this.failAll(e));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  static connect(socketPath = clientSocket()): Promise<Client> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      sock.once('connect', () => resolve(new Client(sock)));
      sock.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'ENOENT' ? 'No such file or directory' : e.code === 'EACCES' ? 'Permission denied' : e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message;
        reject(new VmsupError('CONNECT', `connect: ${socketPath}: ${why}`, 'is vmsupd running? (VMSUP_SOCKET chooses the socket)'));
      });
    });
  }

  /** A request whose answer streams events first (events with follow). */
  requestStream<K extends RequestType>(type: K, params: Params<K>, onEvent: (ev: EventRecord) => void): Promise<Results[K]> {
    this.listeners.set(this.nextId, onEvent);
    return this.request(type, params);
  }

  request<K extends RequestType>(type: K, params: Params<K>): Promise<Results[K]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(encodeFrame({ id, type, params }));
    });
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }
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
