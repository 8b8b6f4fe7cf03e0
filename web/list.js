// The VM list: refreshed every 2 s from /api/vms (state, owner, size, and the
// last minute of CPU and disk I/O as sparklines).
'use strict';
(() => {
  const v = window.vmsup;
  const body = document.querySelector('#vms tbody');
  const IO = ['_read_bytes', '_write_bytes', '_rx_bytes', '_tx_bytes'];

  function cell(tr, content, cls) {
    const td = document.createElement('td');
    if (typeof content === 'string') td.textContent = content;
    else if (content) td.appendChild(content);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  async function refresh() {
    let data;
    try {
      data = await v.getJson('/api/vms');
    } catch (e) {
      v.say({ ok: false, message: String(e.message || e) });
      return;
    }
    const rows = [];
    for (const { info, history } of data.vms) {
      const tr = document.createElement('tr');
      tr.dataset.vm = info.name;
      tr.dataset.state = info.state;
      cell(tr, String(info.id));
      const a = document.createElement('a');
      a.href = `/vm?name=${encodeURIComponent(info.name)}`;
      a.textContent = info.name;
      cell(tr, a, 'name');
      cell(tr, info.state, `state ${info.state}`);
      cell(tr, info.owner.user);
      cell(tr, String(info.cpus));
      cell(tr, v.bytes(info.memory));
      const m = info.metrics;
      const cpu = document.createElement('span');
      cpu.append(v.sparkline(history.map((s) => s.cpu)), ` ${m ? m.cpu.toFixed(1) : '-'}%`);
      cell(tr, cpu, 'metric');
      cell(tr, m ? m.mips.toFixed(1) : '-', 'num');
      const io = document.createElement('span');
      io.append(v.sparkline(history.map((s) => v.sumRates(s.rates, IO))), ` ${m ? v.bytes(v.sumRates(m.rates, IO)) + '/s' : '-'}`);
      cell(tr, io, 'metric');
      const acts = v.actionButtons(info, (r) => {
        v.say(r);
        refresh();
      });
      if (info.state !== 'stopped') {
        const c = document.createElement('a');
        c.href = `/console?name=${encodeURIComponent(info.name)}`;
        c.textContent = 'Console';
        c.className = 'console-link';
        acts.appendChild(c);
      }
      cell(tr, acts);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell(tr, 'No virtual machines you may see.');
      td.colSpan = 10;
      body.appendChild(tr);
    }
  }

  v.getSession().then(() => {
    refresh();
    setInterval(refresh, 2000);
  });
})();
