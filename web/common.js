// Helpers shared by the pages: the session (user, CSRF token), POSTed
// actions, number formatting and SVG sparklines/plots drawn from the
// daemon's metric samples. No framework; each page script uses window.vmsup.
'use strict';
window.vmsup = (() => {
  let session = null;

  async function getSession() {
    if (session) return session;
    const res = await fetch('/api/session', { credentials: 'same-origin' });
    if (res.status === 401) {
      location.replace('/');
      throw new Error('not logged in');
    }
    session = await res.json();
    const u = document.getElementById('user');
    if (u) u.textContent = session.user;
    return session;
  }

  async function getJson(url) {
    const res = await fetch(url, { credentials: 'same-origin' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `${res.status}`);
    return body;
  }

  /** POST with the CSRF header; returns {ok, message}. */
  async function post(url) {
    const s = await getSession();
    const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-Vmsup-Csrf': s.csrf } });
    const body = await res.json().catch(() => ({}));
    return res.ok ? { ok: true, message: body.message || 'done' } : { ok: false, message: body.error || `failed (${res.status})` };
  }

  function bytes(n) {
    if (!n) return '0B';
    const u = ['B', 'K', 'M', 'G', 'T'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
    return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)}${u[i]}`;
  }

  function sumRates(rates, suffixes) {
    let s = 0;
    for (const [k, v] of Object.entries(rates || {})) if (suffixes.some((x) => k.endsWith(x))) s += v;
    return s;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  /** A polyline of `values` in a w×h box (0 at the bottom, max at the top). */
  function sparkline(values, w = 120, h = 24, cls = 'spark') {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', cls);
    svg.setAttribute('width', w);
    svg.setAttribute('height', h);
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    const max = Math.max(1e-9, ...values);
    const n = values.length;
    if (n > 1) {
      const pts = values.map((v, i) => `${((i / (n - 1)) * (w - 2) + 1).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`);
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', pts.join(' '));
      svg.appendChild(line);
    }
    return svg;
  }

  /** A titled plot: a larger sparkline with its latest and largest values. */
  function plot(title, values, fmt) {
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    const last = values.length ? values[values.length - 1] : 0;
    cap.textContent = `${title}: ${fmt(last)} (max ${fmt(values.length ? Math.max(...values) : 0)})`;
    fig.appendChild(cap);
    fig.appendChild(sparkline(values, 360, 80, 'plot'));
    return fig;
  }

  /** The buttons of the CLI's commands that make sense in `state`. */
  function actionButtons(vm, onDone) {
    const div = document.createElement('span');
    div.className = 'actions';
    const add = (label, action, enabled) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.dataset.action = action;
      b.disabled = !enabled;
      b.addEventListener('click', async () => {
        b.disabled = true;
        const r = await post(`/api/vms/${encodeURIComponent(vm.name)}/${action}`);
        onDone(r);
      });
      div.appendChild(b);
    };
    const live = vm.state === 'running' || vm.state === 'paused' || vm.state === 'starting';
    add('Start', 'start', vm.state === 'stopped');
    add('Stop', 'stop', live);
    add('Stop -f', 'stop-force', live || vm.state === 'stopping' || vm.state === 'waiting');
    add('Pause', 'pause', vm.state === 'running');
    add('Unpause', 'unpause', vm.state === 'paused');
    return div;
  }

  function say(r) {
    const m = document.getElementById('msg');
    if (!m) return;
    m.textContent = r.message;
    m.className = r.ok ? 'ok' : 'error';
  }

  document.addEventListener('DOMContentLoaded', () => {
    const lo = document.getElementById('logout');
    if (lo)
      lo.addEventListener('click', async () => {
        await post('/logout');
        location.replace('/');
      });
  });

  return { getSession, getJson, post, bytes, sumRates, sparkline, plot, actionButtons, say };
})();
