// Logging in to the web interface. `vmsup web` asks the daemon (over the Unix
// socket, so the kernel names the caller) for a one-time login token bound to
// the caller's uid; the URL carries it in its fragment (`/login#TOKEN`), which
// browsers never send in a request line, so it cannot reach an access log.
// The login page POSTs it; the answer is a session cookie (HttpOnly,
// SameSite=Strict) that carries the user. Tokens and session ids are stored
// hashed; a leaked memory dump does not hand out live sessions.
import crypto from 'node:crypto';
import { peerFromCred, type Peer } from '../access.js';

/** A login URL is good for this long, and once. */
export const TOKEN_TTL_MS = 5 * 60_000;
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** Caps: outstanding login tokens and sessions per user (oldest dropped), and in all. */
const TOKENS_PER_USER = 16;
const SESSIONS_PER_USER = 32;
const MAX_ENTRIES = 4096;

export interface Session {
  peer: Peer;
  /** Sent back in the X-Vmsup-Csrf header of every POST. */
  csrf: string;
  lastUsed: number;
}

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export class Auth {
  private readonly tokens = new Map<string, { uid: number; gid: number; expires: number }>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time login token for this peer. */
  issueToken(peer: Peer): { token: string; expires: number } {
    this.sweep();
    const mine = [...this.tokens.entries()].filter(([, t]) => t.uid === peer.uid);
    for (const [k] of mine.slice(0, Math.max(0, mine.length - TOKENS_PER_USER + 1))) this.tokens.delete(k);
    const token = crypto.randomBytes(24).toString('base64url');
    const expires = this.now() + TOKEN_TTL_MS;
    this.tokens.set(hash(token), { uid: peer.uid, gid: peer.gid, expires });
    return { token, expires };
  }

  /** Trades a login token for a session id; undefined when it is unknown, used or expired. */
  login(token: unknown): { sid: string; session: Session } | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) return undefined;
    const key = hash(token);
    const t = this.tokens.get(key);
    if (!t) return undefined;
    this.tokens.delete(key); // once
    if (t.expires < this.now()) return undefined;
    this.sweep();
    const mine = [...this.sessions.entries()].filter(([, s]) => s.peer.uid === t.uid);
    for (const [k] of mine.slice(0, Math.max(0, mine.length - SESSIONS_PER_USER + 1))) this.sessions.delete(k);
    const sid = crypto.randomBytes(32).toString('base64url');
    // Groups are looked up now, as for a socket connection.
    const session: Session = {
      peer: peerFromCred({ pid: 0, uid: t.uid, gid: t.gid }),
      csrf: crypto.randomBytes(24).toString('base64url'),
      lastUsed: this.now(),
    };
    this.sessions.set(hash(sid), session);
    return { sid, session };
  }

  /** The session of a cookie header, refreshed; undefined when there is none. */
  session(cookieHeader: string | undefined): Session | undefined {
    const sid = cookie(cookieHeader, COOKIE);
    if (!sid || sid.length > 128) return undefined;
    const key = hash(sid);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    if (this.now() - s.lastUsed > SESSION_IDLE_MS) {
      this.sessions.delete(key);
      return undefined;
    }
    s.lastUsed = this.now();
    return s;
  }

  logout(cookieHeader: string | undefined): void {
    const sid = cookie(cookieHeader, COOKIE);
    if (sid) this.sessions.delete(hash(sid));
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, t] of this.tokens) if (t.expires < now) this.tokens.delete(k);
    for (const [k, s] of this.sessions) if (now - s.lastUsed > SESSION_IDLE_MS) this.sessions.delete(k);
    // Hard caps, whatever the users do: the oldest go first.
    while (this.tokens.size > MAX_ENTRIES) this.tokens.delete(this.tokens.keys().next().value!);
    while (this.sessions.size > MAX_ENTRIES) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

export const COOKIE = 'vmsup_session';

export function sessionCookie(sid: string): string {
  return `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_IDLE_MS / 1000}`;
}

export function clearCookie(): string {
  return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
