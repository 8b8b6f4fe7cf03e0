// The web console: xterm.js over a WebSocket to the VM's console. The
// daemon sends the console history first, then live output (binary frames)
// and control messages (text: hello/role/end). Keystrokes go up as binary
// frames; only the oldest viewer of a console types, the others watch.
'use strict';
(() => {
  const v = window.vmsup;
  const name = new URLSearchParams(location.search).get('name') || '';
  document.getElementById('title').textContent = name;
  document.title = `vmsup — console ${name}`;
  document.getElementById('back').href = `/vm?name=${encodeURIComponent(name)}`;
  const roleEl = document.getElementById('role');

  const term = new window.Terminal({ convertEol: false, scrollback: 5000, cursorBlink: true, fontSize: 14 });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById('term'));
  fit.fit();
  window.vmsupTerm = term; // for tests and the curious: the terminal's buffer

  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/vms/${encodeURIComponent(name)}/console`);
  ws.binaryType = 'arraybuffer';
  let typist = false;
  const setRole = (t) => {
    typist = t;
    roleEl.textContent = t ? 'typing' : 'watching (another viewer types)';
    roleEl.dataset.role = t ? 'typist' : 'viewer';
  };
  const enc = new TextEncoder();
  const sendKeys = (s) => {
    if (typist && ws.readyState === WebSocket.OPEN) ws.send(enc.encode(s));
  };
  const sendSize = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
  };

  ws.addEventListener('open', () => {
    roleEl.textContent = 'connecting…';
    sendSize();
  });
  ws.addEventListener('message', (ev) => {
    if (typeof ev.data === 'string') {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m.type === 'hello' || m.type === 'role') setRole(Boolean(m.typist));
      else if (m.type === 'end') {
        roleEl.textContent = `closed: ${m.why}`;
        roleEl.dataset.role = 'closed';
      }
      return;
    }
    term.write(new Uint8Array(ev.data));
  });
  ws.addEventListener('close', (ev) => {
    if (roleEl.dataset.role !== 'closed') {
      roleEl.textContent = `disconnected${ev.reason ? `: ${ev.reason}` : ''}`;
      roleEl.dataset.role = 'closed';
    }
  });
  term.onData(sendKeys);
  window.addEventListener('resize', () => {
    fit.fit();
    sendSize();
  });

  document.getElementById('copy').addEventListener('click', async () => {
    const sel = term.getSelection();
    if (sel && navigator.clipboard) await navigator.clipboard.writeText(sel).catch(() => undefined);
    term.focus();
  });
  document.getElementById('paste').addEventListener('click', async () => {
    if (navigator.clipboard) {
      const text = await navigator.clipboard.readText().catch(() => '');
      if (text) term.paste(text);
    }
    term.focus();
  });
  term.focus();
  v.getSession().catch(() => undefined);
})();
