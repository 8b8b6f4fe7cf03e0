// One VM: its definition, disks, NICs, events and plots of the last 10
// minutes of its metrics; refreshed every 2 s.
'use strict';
(() => {
  const v = window.vmsup;
  const name = new URLSearchParams(location.search).get('name') || '';
  document.getElementById('title').textContent = name;
  document.title = `vmsup — ${name}`;
  const IO = ['_read_bytes', '_write_bytes'];

  function row(table, cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement(tr.children.length === 0 && table.classList.contains('kv') ? 'th' : 'td');
      td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }

  async function refresh() {
    let d;
    try {
      d = await v.getJson(`/api/vms/${encodeURIComponent(name)}`);
    } catch (e) {
      v.say({ ok: false, message: String(e.message || e) });
      return;
    }
    const vm = d.vm;
    document.getElementById('title').textContent = `${vm.name} (vm ${vm.id}) — ${vm.state}`;
    document.body.dataset.state = vm.state;
    const acts = v.actionButtons(vm, (r) => {
      v.say(r);
      refresh();
    });
    if (vm.state !== 'stopped') {
      const c = document.createElement('a');
      c.href = `/console?name=${encodeURIComponent(vm.name)}`;
      c.textContent = 'Console';
      c.className = 'console-link';
      acts.appendChild(c);
    }
    document.getElementById('actions').replaceChildren(acts);
    const def = document.getElementById('def');
    def.replaceChildren(
      ...[
        ['State', `${vm.state}${vm.reason ? ` (${vm.reason})` : ''}`],
        ['Owner', `${vm.owner.user}:${vm.owner.group}`],
        ['vCPUs', String(vm.cpus)],
        ['Memory', `${v.bytes(vm.memory)} (resident ${v.bytes(vm.curmem)})`],
        ['Kernel', vm.kernel || '-'],
        ['Initrd', vm.initrd || '-'],
        ['Command line', vm.cmdline],
        ['Firmware', vm.bios || '-'],
        ['Enabled', vm.enabled ? 'yes' : 'no'],
        ['Transient', vm.transient ? 'yes' : 'no'],
        ['TTY', vm.tty || '-'],
        ['Restarts', String(vm.restarts)],
      ].map((c) => row(def, c)),
    );
    const disks = document.querySelector('#disks tbody');
    disks.replaceChildren(...vm.disks.map((dk, i) => row(disks, [String(i), dk.path, dk.format, dk.readOnly ? 'read-only' : 'read-write'])));
    if (vm.disks.length === 0) disks.replaceChildren(row(disks, ['-', 'No disks.', '', '']));
    const h = d.history;
    const plots = document.getElementById('plots');
    const perSec = (x) => `${v.bytes(x)}/s`;
    plots.replaceChildren(
      v.plot('CPU', h.map((s) => s.cpu), (x) => `${x.toFixed(1)}%`),
      v.plot('Guest MIPS', h.map((s) => s.mips), (x) => x.toFixed(1)),
      v.plot('Resident memory', h.map((s) => s.rss), v.bytes),
      v.plot('Disk I/O', h.map((s) => v.sumRates(s.rates, IO)), perSec),
      v.plot('Interrupts', h.map((s) => (s.rates || {}).interrupts || 0), (x) => `${x.toFixed(0)}/s`),
      v.plot('Console output', h.map((s) => (s.rates || {}).console_out_bytes || 0), perSec),
    );
    const ev = document.querySelector('#events tbody');
    ev.replaceChildren(...d.events.slice().reverse().map((e) => row(ev, [e.time, e.from || '', e.to, e.reason])));
  }

  v.getSession().then(() => {
    refresh();
    setInterval(refresh, 2000);
  });
})();
