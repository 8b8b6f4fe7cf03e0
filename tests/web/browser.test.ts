// The web interface end to end: Debian's headless Chromium, driven by
// puppeteer-core, logs in with a `vmsup web` URL, sees a running Linux guest,
// types into its console, stops it with the button; a second user's session
// can neither see nor touch it. Screenshots go to test-artifacts/web/.
// The same daemon also answers the HTTP-level checks (CSRF, Origin, frames,
// /metrics) that need no browser.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Daemon, GUEST, onPty, repoRoot, sleep } from '../daemon/harness.js';
import { apiLogin, loginUrl, parsePrometheus, webBase } from './helpers.js';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'web');
const CHROMIUM = '/usr/bin/chromium';
const GROUP = 'vmsupwg';
const ALICE = 'vmsupwa';
const BOB = 'vmsupwb';
const LINUX = ['-m', '128M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz')];

function sh(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

/** vmsupd.conf's http_metrics_token for the scrape test. */
const SCRAPE_TOKEN = 'scrape-0123456789abcdef';
let d: Daemon;
let base: string;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const u of [ALICE, BOB]) sh('userdel', [u]);
  sh('groupadd', ['-f', GROUP]);
  sh('useradd', ['-M', '-U', '-G', GROUP, ALICE]);
  sh('useradd', ['-M', '-U', '-G', GROUP, BOB]);
  d = await Daemon.create({ stop_timeout: 60, http_sessions_per_user: 3, http_metrics_token: SCRAPE_TOKEN }, ['--group', GROUP, '--http', '127.0.0.1:0']);
  base = await webBase(d);
  const def = await d.vmsup(['define', ...LINUX, 'webvm'], { asUser: ALICE });
  expect(def.code, def.stderr).toBe(0);
  const st = await d.vmsup(['start', 'webvm'], { asUser: ALICE });
  expect(st.code, st.stderr).toBe(0);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await d?.cleanup();
  for (const u of [ALICE, BOB]) sh('userdel', [u]);
  sh('groupdel', [GROUP]);
});

async function loggedInPage(asUser: string): Promise<Page> {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const { url } = await loginUrl(d, asUser);
  await page.goto(url);
  await page.waitForFunction(() => location.pathname === '/', { timeout: 30_000 });
  return page;
}

/** The terminal's text, one string per line (xterm.js's buffer). */
function terminalText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const t = (window as unknown as { vmsupTerm: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).vmsupTerm;
    const b = t.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out;
  });
}

test('a user logs in with a vmsup web URL, sees the VM, types in its console and stops it with the button', async () => {
  const page = await loggedInPage(ALICE);
  // the list: the running VM, owned by alice
  await page.waitForSelector('tr[data-vm="webvm"][data-state="running"]', { timeout: 120_000 });
  const row = await page.$eval('tr[data-vm="webvm"]', (tr) => tr.textContent ?? '');
  expect(row).toContain(ALICE);
  await sleep(3000); // a few samples for the sparklines
  await page.screenshot({ path: path.join(ARTIFACTS, 'list.png') });

  // the detail page: definition, plots, events
  await page.goto(`${base}/vm?name=webvm`);
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length > 0 && document.querySelectorAll('#plots figure').length === 6, {
    timeout: 30_000,
  });
  const def = await page.$eval('#def', (t) => t.textContent ?? '');
  expect(def).toContain('initramfs.cpio.gz');
  await page.screenshot({ path: path.join(ARTIFACTS, 'detail.png'), fullPage: true });

  // the console: history on attach, then a command typed in the browser
  await page.goto(`${base}/console?name=webvm`);
  await page.waitForSelector('#role[data-role="typist"]', { timeout: 30_000 });
  await page.waitForFunction(
    () => {
      const b = (window as unknown as { vmsupTerm: { buffer: { active: { length: number; getLine(i: number): { translateToString(t: boolean): string } } } } }).vmsupTerm.buffer.active;
      for (let i = 0; i < b.length; i++) if (b.getLine(i).translateToString(true).includes('VMSUP-GUEST-READY')) return true;
      return false;
    },
    { timeout: 120_000 },
  );
  await page.click('#term');
  // The prompt may still be coming: a newline first, then the command.
  await page.keyboard.press('Enter');
  await page.keyboard.type('echo hi-from-browser');
  await page.keyboard.press('Enter');
  const deadline = Date.now() + 60_000;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = await terminalText(page);
    // the guest's answer is a line of its own, apart from the echoed command
    if (lines.some((l) => l.trim() === 'hi-from-browser')) break;
    await sleep(300);
  }
  expect(lines.some((l) => l.includes('echo hi-from-browser'))).toBe(true);
  expect(lines.some((l) => l.trim() === 'hi-from-browser')).toBe(true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console.png') });

  // stop from the list's button: Ctrl-Alt-Del, the guest powers off
  await page.goto(`${base}/`);
  await page.waitForSelector('tr[data-vm="webvm"][data-state="running"] button[data-action="stop"]:not([disabled])', { timeout: 30_000 });
  await page.click('tr[data-vm="webvm"] button[data-action="stop"]');
  await page.waitForFunction(() => /stopping vm webvm: requested to shutdown vm \d+/.test(document.getElementById('msg')?.textContent ?? ''), {
    timeout: 30_000,
  });
  await page.waitForSelector('tr[data-vm="webvm"][data-state="stopped"]', { timeout: 120_000 });
  expect((await d.status('webvm'))!.state).toBe('stopped');
  expect((await d.status('webvm'))!.reason).toMatch(/shutdown requested by vmsupwa; the guest powered off/);
  await page.browserContext().close();
}, 400_000);

test("another user's session neither sees nor touches the VM", async () => {
  if ((await d.status('webvm'))!.state === 'stopped') {
    const st = await d.vmsup(['start', 'webvm'], { asUser: ALICE });
    expect(st.code, st.stderr).toBe(0);
  }
  const page = await loggedInPage(BOB);
  await page.waitForSelector('#vms tbody tr', { timeout: 30_000 });
  await sleep(2500); // a refresh or two
  expect(await page.$('tr[data-vm="webvm"]')).toBeNull();
  // from bob's page, with bob's own CSRF token: the daemon says no
  const answers = await page.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    const stop = await fetch('/api/vms/webvm/stop-force', { method: 'POST', headers: { 'X-Vmsup-Csrf': s.csrf } });
    const get = await fetch('/api/vms/webvm');
    const ws = await new Promise<string>((resolve) => {
      // window.WebSocket: the browser's (the bare name is this file's import of ws)
      const w = new window.WebSocket(`ws://${location.host}/api/vms/webvm/console`);
      let got = '';
      w.onmessage = (e) => (got += typeof e.data === 'string' ? e.data : '<binary>');
      w.onclose = (e) => resolve(`${e.code} ${got}`);
    });
    return { stop: stop.status, stopBody: await stop.text(), get: get.status, ws };
  });
  expect(answers.stop).toBe(403);
  expect(answers.stopBody).toContain('permission denied');
  expect(answers.get).toBe(403);
  expect(answers.ws).toMatch(/^1008 .*permission denied/);
  expect(answers.ws).not.toContain('<binary>');
  expect(['running', 'starting']).toContain((await d.status('webvm'))!.state);
  await page.browserContext().close();
}, 200_000);

test('HTTP rules: no session, no CSRF token, a foreign Origin or a used token are refused; tokens stay out of the log', async () => {
  const { token } = await loginUrl(d, ALICE);
  const { cookie, csrf } = await apiLogin(base, token);
  // the token worked once
  const again = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(again.status).toBe(403);
  expect(d.log).not.toContain(token);
  expect((await fetch(`${base}/api/vms`)).status).toBe(401);
  // cookie attributes
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: (await loginUrl(d, ALICE)).token }),
  });
  expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
  // state changes need POST + the CSRF header + a same-origin Origin
  const url = `${base}/api/vms/webvm/pause`;
  expect((await fetch(url, { headers: { cookie } })).status).toBe(404); // GET changes nothing
  expect((await fetch(url, { method: 'POST', headers: { cookie } })).status).toBe(403);
  expect((await fetch(url, { method: 'POST', headers: { cookie, 'x-vmsup-csrf': csrf, origin: 'http://evil.example' } })).status).toBe(403);
  // malformed escapes are a bad request, not a daemon crash
  expect((await fetch(`${base}/api/vms/%ZZ`, { headers: { cookie } })).status).toBe(400);
  const bad = new WebSocket(`${base.replace('http', 'ws')}/api/vms/%ZZ/console`, { headers: { cookie, origin: base } });
  await expect(new Promise((r, j) => (bad.on('open', r), bad.on('error', j)))).rejects.toThrow(/404/);
  expect(['running', 'starting']).toContain((await d.status('webvm'))!.state);
}, 60_000);

test('the console WebSocket checks Origin, is capped per user, excludes vmsup console, and a bad frame closes only its own connection', async () => {
  const { cookie } = await apiLogin(base, (await loginUrl(d, ALICE)).token);
  const origin = base;
  const open = (o: string) =>
    new Promise<{ ws: WebSocket; text: string[]; bin: Buffer[]; closed: Promise<number> }>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/vms/webvm/console`, { headers: { cookie, origin: o } });
      const text: string[] = [];
      const bin: Buffer[] = [];
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      ws.on('message', (data, isBinary) => (isBinary ? bin.push(data as Buffer) : text.push(String(data))));
      ws.on('open', () => resolve({ ws, text, bin, closed }));
      ws.on('error', reject);
    });
  await expect(open('http://evil.example')).rejects.toThrow(/403/);
  const a = await open(origin);
  const b = await open(origin);
  await d.waitFor(async () => a.text.length > 0 && b.text.length > 0, 30_000);
  expect(JSON.parse(a.text[0])).toEqual({ type: 'hello', typist: true });
  expect(JSON.parse(b.text[0])).toEqual({ type: 'hello', typist: false });
  // the per-user cap (http_sessions_per_user = 3 here): a third is fine, a fourth is refused
  const c = await open(origin);
  await expect(open(origin)).rejects.toThrow(/429/);
  c.ws.close();
  await c.closed;
  // vmsup console is refused while the web watches
  const cli = onPty(d, ['console', 'webvm'], 30_000);
  expect(await cli.exited).toBe(1);
  expect(cli.screen()).toContain('the console is open in the web interface');
  cli.close();
  a.ws.send('this is not json');
  expect(await a.closed).toBe(1008);
  // b is still attached, and is now the one who types
  await d.waitFor(async () => b.text.some((t) => t.includes('"role"')), 30_000);
  expect(JSON.parse(b.text[b.text.length - 1])).toEqual({ type: 'role', typist: true });
  const before = Buffer.concat(b.bin).length;
  b.ws.send(Buffer.from('\recho still-$((40+2))\r'));
  await d.waitFor(async () => Buffer.concat(b.bin).subarray(before).toString('latin1').includes('still-42'), 60_000);
  b.ws.close();
  await b.closed;
}, 120_000);

test('/metrics is Prometheus text with the VM and its device counters', async () => {
  const { cookie } = await apiLogin(base, (await loginUrl(d, ALICE)).token);
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };
  // The counters are published once a second: wait for the last test's keystrokes to show.
  let { types, samples } = await scrape();
  for (let i = 0; i < 20 && !samples.some((s) => s.name === 'vmsup_vm_console_bytes_total' && s.labels.direction === 'in' && s.value > 0); i++) {
    await sleep(500);
    ({ types, samples } = await scrape());
  }
  expect(types.get('vmsup_vm_instructions_total')).toBe('counter');
  expect(types.get('vmsup_vm_cpu_percent')).toBe('gauge');
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && s.labels.vm === 'webvm' && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(get('vmsup_vm_info', { owner: ALICE })?.value).toBe(1);
  expect(get('vmsup_vm_instructions_total')!.value).toBeGreaterThan(1e6);
  expect(get('vmsup_vm_resident_bytes')!.value).toBeGreaterThan(1 << 20);
  // The JIT (the default on x86-64) holds translated code; the interpreter none.
  expect(types.get('vmsup_vm_code_cache_bytes')).toBe('gauge');
  if (process.arch === 'x64' && process.env.VMSUP_JIT !== '0') expect(get('vmsup_vm_code_cache_bytes')!.value).toBeGreaterThan(0);
  expect(get('vmsup_vm_console_bytes_total', { direction: 'out' })!.value).toBeGreaterThan(100);
  expect(get('vmsup_vm_console_bytes_total', { direction: 'in' })!.value).toBeGreaterThan(0);
  expect(get('vmsup_vm_interrupts_total')!.value).toBeGreaterThan(0);
  // bob's scrape does not show alice's VM
  const bob = await apiLogin(base, (await loginUrl(d, BOB)).token);
  const other = parsePrometheus(await (await fetch(`${base}/metrics`, { headers: { cookie: bob.cookie } })).text());
  expect(other.samples.some((s) => s.labels.vm === 'webvm')).toBe(false);
  // A Prometheus server scrapes with the configured bearer token (every VM), and only with it.
  const scraped = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
  expect(scraped.status).toBe(200);
  expect(parsePrometheus(await scraped.text()).samples.some((s) => s.labels.vm === 'webvm')).toBe(true);
  for (const authorization of [`Bearer ${SCRAPE_TOKEN}x`, `Bearer ${SCRAPE_TOKEN.slice(1)}`, SCRAPE_TOKEN])
    expect((await fetch(`${base}/metrics`, { headers: { authorization } })).status).toBe(401);
  expect(d.log).not.toContain(SCRAPE_TOKEN);
}, 60_000);
