// Login tokens and sessions: once, for a while, capped, and never stored as given.
import { expect, test } from 'vitest';
import { Auth, COOKIE, TOKEN_TTL_MS, SESSION_IDLE_MS } from './auth.js';

const peer = (uid: number) => ({ pid: 1, uid, gid: uid, groups: new Set([uid]) });

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('a login token works once and names its user', () => {
  const c = clock();
  const a = new Auth(c.now);
  const { token } = a.issueToken(peer(1000));
  const s = a.login(token);
  expect(s?.session.peer.uid).toBe(1000);
  expect(a.login(token)).toBeUndefined();
  expect(a.session(`${COOKIE}=${s!.sid}`)?.peer.uid).toBe(1000);
  expect(a.session(`other=1; ${COOKIE}=${s!.sid}x`)).toBeUndefined();
});

test('a login token expires, and so does an idle session', () => {
  const c = clock();
  const a = new Auth(c.now);
  const late = a.issueToken(peer(1000)).token;
  c.advance(TOKEN_TTL_MS + 1);
  expect(a.login(late)).toBeUndefined();
  const s = a.login(a.issueToken(peer(1000)).token)!;
  c.advance(SESSION_IDLE_MS - 1000);
  expect(a.session(`${COOKIE}=${s.sid}`)).toBeDefined(); // used: the idle time starts again
  c.advance(SESSION_IDLE_MS - 1000);
  expect(a.session(`${COOKIE}=${s.sid}`)).toBeDefined();
  c.advance(SESSION_IDLE_MS + 1);
  expect(a.session(`${COOKIE}=${s.sid}`)).toBeUndefined();
});

test('garbage is no token, and old tokens of a user make room for new ones', () => {
  const a = new Auth();
  for (const t of [undefined, 42, '', 'x'.repeat(1000), {}]) expect(a.login(t)).toBeUndefined();
  const first = a.issueToken(peer(7)).token;
  for (let i = 0; i < 16; i++) a.issueToken(peer(7));
  expect(a.login(first)).toBeUndefined(); // dropped: at most 16 outstanding per user
  const other = a.issueToken(peer(8)).token;
  for (let i = 0; i < 20; i++) a.issueToken(peer(7));
  expect(a.login(other)).toBeDefined(); // another user's tokens are not touched
});

test('logout ends the session; each session has its own CSRF token', () => {
  const a = new Auth();
  const s1 = a.login(a.issueToken(peer(5)).token)!;
  const s2 = a.login(a.issueToken(peer(5)).token)!;
  expect(s1.session.csrf).not.toBe(s2.session.csrf);
  a.logout(`${COOKIE}=${s1.sid}`);
  expect(a.session(`${COOKIE}=${s1.sid}`)).toBeUndefined();
  expect(a.session(`${COOKIE}=${s2.sid}`)).toBeDefined();
});
