// Helpers for the web interface's tests: a daemon with --http on a free port,
// logins through `vmsup web`, and a strict reader of the Prometheus text format.
import type { Daemon } from '../daemon/harness.js';

/** The base URL the daemon logs ("web interface on http://…") just after "listening on". */
export async function webBase(d: Daemon): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = /web interface on (http:\/\/[^\s]+)/.exec(d.log);
    if (m) return m[1];
    if (Date.now() > deadline) throw new Error(`vmsupd did not start its web interface:\n${d.log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A one-time login URL from `vmsup web --json`, as `asUser` (root when absent). */
export async function loginUrl(d: Daemon, asUser?: string): Promise<{ url: string; token: string }> {
  const r = await d.vmsup(['web', '--json'], asUser ? { asUser } : {});
  if (r.code !== 0) throw new Error(`vmsup web failed: ${r.stderr}`);
  const { url } = JSON.parse(r.stdout) as { url: string };
  return { url, token: url.slice(url.indexOf('#') + 1) };
}

/** Logs in without a browser: POST /login; returns the session cookie and the CSRF token. */
export async function apiLogin(base: string, token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const s = (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()) as { csrf: string };
  return { cookie, csrf: s.csrf };
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Reads the Prometheus text exposition format (version 0.0.4) strictly: every
 * line is a HELP, a TYPE, a comment or a sample `name{l="v",…} value
 * [timestamp]`; label values use only the three escapes the format allows;
 * each TYPE comes before its samples, once. Throws on anything else.
 */
export function parsePrometheus(text: string): { types: Map<string, string>; samples: PromSample[] } {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the text does not end with a newline');
  for (const line of lines.slice(0, -1)) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (!m) continue; // a plain comment
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3])) throw new Error(`bad TYPE: ${line}`);
        if (types.has(m[2])) throw new Error(`second TYPE for ${m[2]}`);
        if (samples.some((s) => s.name === m[2])) throw new Error(`TYPE after samples of ${m[2]}`);
        types.set(m[2], m[3]);
      }
      continue;
    }
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`).exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
    while (rest !== '') {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`bad labels in: ${line}`);
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      rest = rest.slice(l[0].length);
    }
    const v = m[3];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
    if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|Inf|NaN)$/.test(v)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}
