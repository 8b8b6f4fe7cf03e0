// The web interface: `vmsupd --http [addr:]port` (or `http = …` in
// vmsupd.conf). Off by default; 127.0.0.1 unless an address is given.
//
// Every request is judged like a Unix-socket request: the session cookie
// names a uid (given by `vmsup web`, see auth.ts), and the handlers are the
// Supervisor's own methods called with that peer, so a user sees and controls
// exactly what the CLI would let them. No GET changes state; every POST needs
// the session's CSRF token in a header (which a cross-site form cannot set) and
// a same-origin Origin when the browser sends one. The console WebSocket checks
// Origin, is capped per user, and a bad frame closes that socket only.
// Nothing here logs a URL, a cookie or a token.
import { ROOT_PEER } from '../supervisor.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { asVmsupError, VmsupError } from '../protocol/errors.js';
import type { Supervisor, ConsoleSession } from '../supervisor.js';
import type { Logger } from '../log.js';
import { Auth, clearCookie, sessionCookie, type Session } from './auth.js';
import { prometheusText } from './prom.js';
import { userName } from '../access.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/daemon/http -> the checkout's web/ and node_modules/. */
const ROOT = path.resolve(here, '../../..');
const WEB_DIR = path.join(ROOT, 'web');
const NODE_MODULES = path.join(ROOT, 'node_modules');

/** Files served from node_modules (no bundler): exactly these. */
const VENDOR: Record<string, string> = {
  '/vendor/xterm.js': '@xterm/xterm/lib/xterm.js',
  '/vendor/xterm.css': '@xterm/xterm/css/xterm.css',
  '/vendor/addon-fit.js': '@xterm/addon-fit/lib/addon-fit.js',
};
const PAGES: Record<string, string> = { '/': 'index.html', '/vm': 'vm.html', '/console': 'console.html', '/login': 'login.html' };
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Request bodies (login, actions) are tiny. */
const MAX_BODY = 4096;
/** A web console frame of keystrokes or control; a paste larger than this is refused (the socket closes). */
const MAX_WS_FRAME = 64 * 1024;
/** Viewers of one VM's console at once. */
const MAX_VIEWERS_PER_VM = 16;
/** Output queued for a viewer that does not read: past this the viewer is dropped. */
const MAX_WS_BUFFERED = 1024 * 1024;
/** Simultaneous HTTP connections (keep-alive included). */
const MAX_HTTP_CONNECTIONS = 256;

const ACTIONS = ['start', 'stop', 'stop-force', 'pause', 'unpause'] as const;
type Action = (typeof ACTIONS)[number];

/** Whether an Authorization header carries the configured scrape token (compared in constant time). */
function metricsTokenOk(token: string, header: string | undefined): boolean {
  if (token === '' || !header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const want = Buffer.from(token);
  return given.length === want.length && crypto.timingSafeEqual(given, want);
}

export class WebServer {
  readonly auth = new Auth();
  private server?: http.Server;
  private wss?: WebSocketServer;
  private readonly wsPerUser = new Map<number, number>();
  private baseUrl = '';

  constructor(
    private readonly sup: Supervisor,
    private readonly log: Logger,
  ) {}

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.log.warn(`http: ${asVmsupError(e).message}`);
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    server.maxConnections = MAX_HTTP_CONNECTIONS;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_FRAME });
    server.on('upgrade', (req, sock, head) => {
      try {
        this.upgrade(req, sock as import('node:net').Socket, head);
      } catch (e) {
        this.log.warn(`http: websocket: ${asVmsupError(e).message}`);
        sock.destroy();
      }
    });
    server.on('clientError', (_e, sock) => sock.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as import('node:net').AddressInfo;
    const shown = addr.address === '0.0.0.0' || addr.address === '::' ? os.hostname() : addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    this.baseUrl = `http://${shown}:${addr.port}`;
    this.sup.web = {
      issueLogin: (peer) => {
        const t = this.auth.issueToken(peer);
        return { url: `${this.baseUrl}/login#${t.token}`, expires: new Date(t.expires).toISOString() };
      },
    };
    return { host: addr.address, port: addr.port };
  }

  async close(): Promise<void> {
    this.sup.web = undefined;
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  // ---- plain HTTP ------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    this.log.debug(`http: ${method} ${p.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}`);
    securityHeaders(res);

    if (method === 'GET' && VENDOR[p]) return sendFile(res, path.join(NODE_MODULES, VENDOR[p]));
    if (method === 'GET' && /^\/static\/[a-z0-9-]+\.(js|css)$/.test(p)) return sendFile(res, path.join(WEB_DIR, p.slice('/static/'.length)));
    if (method === 'GET' && p === '/login') return sendFile(res, path.join(WEB_DIR, PAGES['/login']));
    if (method === 'POST' && p === '/login') return this.login(req, res);

    // A Prometheus server scrapes /metrics with the `http_metrics_token` of
    // vmsupd.conf as a bearer token (root's view: every VM), no login needed.
    if (method === 'GET' && p === '/metrics' && metricsTokenOk(this.sup.settings.httpMetricsToken, req.headers.authorization)) {
      const st = await this.sup.status(ROOT_PEER, {});
      const { text, contentType } = await prometheusText(st.vms);
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(text);
      return;
    }
    const session = this.auth.session(req.headers.cookie);
    if (method === 'GET' && PAGES[p]) {
      if (!session) return sendFile(res, path.join(WEB_DIR, 'loggedout.html'), 401);
      return sendFile(res, path.join(WEB_DIR, PAGES[p]));
    }
    if (!session) return send(res, 401, { error: 'not logged in: run `vmsup web` for a login URL' });

    if (method === 'GET') {
      if (p === '/metrics') {
        const st = await this.sup.status(session.peer, {});
        const { text, contentType } = await prometheusText(st.vms);
        res.writeHead(200, { 'Content-Type': contentType });
        res.end(text);
        return;
      }
      if (p === '/api/session') return send(res, 200, { user: userOf(session), uid: session.peer.uid, csrf: session.csrf });
      if (p === '/api/vms') return this.answer(res, () => this.sup.metrics(session.peer, { history: 60 }));
      const m = /^\/api\/vms\/([^/]{1,255})$/.exec(p);
      if (m) {
        const vm = decode(m[1]);
        if (vm === undefined) return send(res, 400, { error: 'malformed VM name' });
        return this.answer(res, async () => {
          const met = await this.sup.metrics(session.peer, { vm, history: 600 });
          const ev = await this.sup.eventLog(session.peer, { vm, limit: 50 });
          return { vm: met.vms[0].info, history: met.vms[0].history, events: ev.events };
        });
      }
      return send(res, 404, { error: 'not found' });
    }
    if (method === 'POST') {
      if (!this.sameOrigin(req) || req.headers['x-vmsup-csrf'] !== session.csrf)
        return send(res, 403, { error: 'cross-site request refused' });
      if (p === '/logout') {
        this.auth.logout(req.headers.cookie);
        res.setHeader('Set-Cookie', clearCookie());
        return send(res, 200, { ok: true });
      }
      const m = /^\/api\/vms\/([^/]{1,255})\/([a-z-]+)$/.exec(p);
      if (m && (ACTIONS as readonly string[]).includes(m[2])) {
        await readBody(req).catch(() => undefined);
        const vm = decode(m[1]);
        if (vm === undefined) return send(res, 400, { error: 'malformed VM name' });
        return this.answer(res, () => this.act(session, vm, m[2] as Action));
      }
      return send(res, 404, { error: 'not found' });
    }
    res.setHeader('Allow', 'GET, POST');
    return send(res, 405, { error: 'method not allowed' });
  }

  /** The CLI's messages for the same commands. */
  private async act(session: Session, vm: string, action: Action): Promise<{ message: string }> {
    const peer = session.peer;
    switch (action) {
      case 'start': {
        const r = await this.sup.start(peer, { vm });
        return {
          message:
            r.vm.state === 'waiting'
              ? `vm ${r.vm.id} is waiting for a free worker, tty ${r.vm.tty}`
              : `started vm ${r.vm.id} successfully, tty ${r.vm.tty}`,
        };
      }
      case 'stop':
      case 'stop-force': {
        const r = await this.sup.stop(peer, { vm, force: action === 'stop-force' });
        const s = r.stopped[0];
        return { message: `stopping vm ${s.name}: ${s.outcome === 'forced' ? `forced to terminate vm ${s.id}` : `requested to shutdown vm ${s.id}`}` };
      }
      case 'pause': {
        const r = await this.sup.pause(peer, { vm }, true);
        return { message: `paused vm ${r.vm.id} successfully` };
      }
      case 'unpause': {
        const r = await this.sup.pause(peer, { vm }, false);
        return { message: `unpaused vm ${r.vm.id} successfully` };
      }
    }
  }

  private async answer(res: http.ServerResponse, fn: () => Promise<unknown>): Promise<void> {
    try {
      send(res, 200, await fn());
    } catch (e) {
      const err = asVmsupError(e);
      const code = err.code.replace(/^ERR_VMSUP_/, '');
      const status = code === 'NO_VM' ? 404 : code === 'PERMISSION' ? 403 : code === 'BAD_REQUEST' ? 400 : 409;
      send(res, status, { error: err.message, code: err.code });
    }
  }

  private async login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.sameOrigin(req)) return send(res, 403, { error: 'cross-site request refused' });
    let token: unknown;
    try {
      token = JSON.parse(await readBody(req)).token;
    } catch {
      return send(res, 400, { error: 'malformed login request' });
    }
    const s = this.auth.login(token);
    if (!s) {
      this.log.info('http: a login with an unknown, used or expired token was refused');
      return send(res, 403, { error: 'this login URL is unknown, used or expired: run `vmsup web` again' });
    }
    this.log.info(`http: ${userOf(s.session)} logged in to the web interface`);
    res.setHeader('Set-Cookie', sessionCookie(s.sid));
    send(res, 200, { user: userOf(s.session) });
  }

  /** A browser names the page's origin in Origin; it must be this server as the browser reached it. */
  private sameOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser, or a same-origin GET-less navigation
    return typeof req.headers.host === 'string' && origin === `http://${req.headers.host}`;
  }

  // ---- the console WebSocket ----------------------------------------------------

  private upgrade(req: http.IncomingMessage, sock: import('node:net').Socket, head: Buffer): void {
    const refuse = (status: number, why: string) => {
      this.log.debug(`http: websocket refused: ${why}`);
      sock.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    sock.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/api\/vms\/([^/]{1,255})\/console$/.exec(url.pathname);
    const vm = m ? decode(m[1]) : undefined;
    if (vm === undefined) return refuse(404, 'no such endpoint');
    // Origin is mandatory here: browsers always send it on a WebSocket, and a
    // cross-site page could otherwise ride the cookie (WebSockets have no CORS).
    if (req.headers.origin === undefined || !this.sameOrigin(req)) return refuse(403, 'bad origin');
    const session = this.auth.session(req.headers.cookie);
    if (!session) return refuse(401, 'no session');
    const uid = session.peer.uid;
    const open = this.wsPerUser.get(uid) ?? 0;
    if (open >= this.sup.settings.httpSessionsPerUser) return refuse(429, `uid ${uid} has too many console sessions`);
    this.wsPerUser.set(uid, open + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const n = (this.wsPerUser.get(uid) ?? 1) - 1;
      if (n <= 0) this.wsPerUser.delete(uid);
      else this.wsPerUser.set(uid, n);
    };
    sock.once('close', uncount);
    this.wss!.handleUpgrade(req, sock, head, (ws) => this.console(ws, session, vm, uncount));
  }

  private console(ws: WebSocket, session: Session, vm: string, uncount: () => void): void {
    let cs: ConsoleSession | undefined;
    let closed = false;
    const close = (code: number, why: string) => {
      if (closed) return;
      closed = true;
      cs?.detach();
      try {
        ws.close(code, why.slice(0, 120));
      } catch {
        ws.terminate();
      }
      uncount();
    };
    const control = (msg: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    ws.on('error', () => close(1011, 'error'));
    ws.on('close', () => {
      closed = true;
      cs?.detach();
      uncount();
    });
    const pending: Buffer[] = [];
    ws.on('message', (data, isBinary) => {
      try {
        onMessage(data, isBinary);
      } catch (e) {
        this.log.debug(`http: console message: ${asVmsupError(e).message}`);
        close(1011, 'internal error');
      }
    });
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        if (cs) cs.input(buf);
        else if (pending.length < 64) pending.push(buf);
        return;
      }
      // Text frames are control messages: {"type":"resize","cols":N,"rows":N}.
      let msg: { type?: unknown; cols?: unknown; rows?: unknown };
      try {
        msg = JSON.parse(buf.toString('utf8'));
      } catch {
        return close(1008, 'malformed control message');
      }
      if (
        msg === null ||
        typeof msg !== 'object' ||
        msg.type !== 'resize' ||
        !Number.isInteger(msg.cols) ||
        !Number.isInteger(msg.rows) ||
        (msg.cols as number) < 1 ||
        (msg.cols as number) > 1000 ||
        (msg.rows as number) < 1 ||
        (msg.rows as number) > 1000
      )
        return close(1008, 'unknown control message');
      // The guest's console is a serial line: it has no window-size signal.
      // The terminal in the page resizes itself; nothing reaches the guest.
    };
    this.sup
      .webConsoleAttach(
        session.peer,
        vm,
        {
          output: (chunk) => {
            if (closed) return;
            if (ws.bufferedAmount > MAX_WS_BUFFERED) return close(1013, 'viewer too slow');
            ws.send(chunk, { binary: true });
          },
          role: (typist) => control({ type: 'role', typist }),
          end: (why) => {
            control({ type: 'end', why });
            close(1000, why);
          },
        },
        MAX_VIEWERS_PER_VM,
      )
      .then(
        (s) => {
          if (closed) return s.detach();
          cs = s;
          control({ type: 'hello', typist: s.typist });
          if (s.history.length) ws.send(s.history, { binary: true });
          for (const b of pending.splice(0)) s.input(b);
        },
        (e) => {
          control({ type: 'end', why: asVmsupError(e).message });
          close(1008, asVmsupError(e).message);
        },
      );
  }
}

/** A path segment as text; undefined when its %-escapes are malformed. */
function decode(seg: string): string | undefined {
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

function userOf(s: Session): string {
  return userName(s.peer.uid);
}

function securityHeaders(res: http.ServerResponse): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendFile(res: http.ServerResponse, file: string, status = 200): void {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return send(res, 404, { error: 'not found' });
  }
  res.writeHead(status, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': data.length });
  res.end(data);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new VmsupError('BAD_REQUEST', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
