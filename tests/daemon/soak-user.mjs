// One soak-test user (tests/daemon/soak.test.ts), run as that user: for a bounded
// time it cycles its own VM through start and stop while doing what a careless or
// hostile client does around it: waits abandoned mid-way, followed event streams
// cut off, status calls, garbage frames, connections held open. Prints one JSON
// line of counts at the end. Raw frames, so it needs nothing but Node.
// Usage: node soak-user.mjs SOCKET VMNAME KERNEL SECONDS MODE(cycle|hold)
import net from 'node:net';

const [sockPath, vmName, kernel, secondsArg, mode] = process.argv.slice(2);
const end = Date.now() + Number(secondsArg) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const counts = { cycles: 0, requests: 0, errors: 0, abandoned: 0, refused: 0, held: 0 };

function frame(o) {
  const b = Buffer.from(JSON.stringify(o));
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

/** A minimal client: answers by id; resolves to the answer frame or {closed}. */
function open() {
  return new Promise((resolve) => {
    const s = net.connect(sockPath);
    const waiting = new Map();
    let buf = Buffer.alloc(0);
    let nextId = 1;
    const api = {
      sock: s,
      req(type, params, ms = 60_000) {
        const id = nextId++;
        counts.requests++;
        return new Promise((res) => {
          const t = setTimeout(() => (waiting.delete(id), res({ timeout: true })), ms);
          waiting.set(id, (f) => (clearTimeout(t), res(f)));
          if (!s.destroyed) s.write(frame({ id, type, params }));
        });
      },
      send(type, params) {
        counts.requests++;
        s.write(frame({ id: nextId++, type, params }));
      },
      close: () => s.destroy(),
    };
    s.on('connect', () => resolve(api));
    s.on('error', () => undefined);
    s.on('close', () => {
      for (const fn of waiting.values()) fn({ closed: true });
      waiting.clear();
      resolve(api);
    });
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const f = JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)));
        buf = buf.subarray(4 + buf.readUInt32BE(0));
        if (f.id === 0 && f.ok === false && /too many/.test(f.error.message)) counts.refused++;
        const fn = waiting.get(f.id);
        if (fn && ('ok' in f)) {
          waiting.delete(f.id);
          fn(f);
        }
      }
    });
  });
}

async function cycle() {
  const main = await open();
  await main.req('define', { name: vmName, config: { memory: 16 << 20, kernel } });
  while (Date.now() < end) {
    const st = await main.req('start', { vm: vmName });
    if (!st.ok) counts.errors++;
    // Waits: two connections abandon theirs, one keeps its own to the stop.
    const keep = await open();
    const kept = Array.from({ length: 4 }, () => keep.req('wait', { vm: vmName }));
    for (let k = 0; k < 2; k++) {
      const w = await open();
      for (let i = 0; i < 8; i++) w.send('wait', { vm: vmName });
      await sleep(5);
      w.close();
      counts.abandoned += 8;
    }
    // A followed event stream, cut off.
    const f = await open();
    f.send('events', { follow: true, limit: 50 });
    // Status on a fresh connection, and a garbage frame on another.
    const s = await open();
    const r = await s.req('status', {});
    if (!r.ok) counts.errors++;
    s.close();
    const g = await open();
    if (!g.sock.destroyed) g.sock.write(Buffer.from([0, 0, 0, 5, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b]));
    await sleep(20);
    f.close();
    g.close();
    const stop = await main.req('stop', { vm: vmName, force: true, wait: true });
    if (!stop.ok) counts.errors++;
    for (const w of await Promise.all(kept)) if (!w.ok) counts.errors++;
    keep.close();
    counts.cycles++;
  }
  await main.req('undefine', { vm: vmName });
  main.close();
}

async function hold() {
  // Holds as many connections as it is given, re-opening them as the idle timeout closes them.
  const conns = [];
  while (Date.now() < end) {
    const prune = () => {
      for (let i = conns.length - 1; i >= 0; i--) if (conns[i].sock.destroyed) conns.splice(i, 1);
    };
    prune();
    while (conns.length < 40 && Date.now() < end) {
      const c = await open();
      if (c.sock.destroyed) break;
      const r = await c.req('status', {}, 5000);
      if (!r.ok) {
        c.close();
        break;
      }
      conns.push(c);
      prune();
      counts.held = Math.max(counts.held, conns.length);
    }
    await sleep(200);
  }
  for (const c of conns) c.close();
}

await (mode === 'hold' ? hold() : cycle());
process.stdout.write(JSON.stringify(counts) + '\n');
process.exit(0);
