// Load for the vmsupd benchmark's "status under load" section, run as a non-root user.
//   node load-user.mjs SOCKET hold N          holds N idle connections (each answered one status)
//   node load-user.mjs SOCKET flood VM SECS   4 loops: connect, 8 waits on VM, disconnect; for SECS
// Prints one JSON line when set up (hold) or done (flood); hold then stays until killed.
import net from 'node:net';

const [sockPath, mode, a, b] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const frame = (o) => {
  const body = Buffer.from(JSON.stringify(o));
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
};
const connect = () =>
  new Promise((resolve) => {
    const s = net.connect(sockPath);
    s.on('error', () => resolve(null));
    s.on('connect', () => resolve(s));
  });

if (mode === 'hold') {
  const held = [];
  for (let i = 0; i < Number(a); i++) {
    const s = await connect();
    if (!s) break;
    const ok = await new Promise((resolve) => {
      let got = Buffer.alloc(0);
      s.on('data', (c) => {
        got = Buffer.concat([got, c]);
        if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) resolve(JSON.parse(got.subarray(4, 4 + got.readUInt32BE(0))).ok === true);
      });
      s.on('close', () => resolve(false));
      s.write(frame({ id: 1, type: 'status', params: {} }));
    });
    if (!ok) break;
    held.push(s);
  }
  process.stdout.write(JSON.stringify({ held: held.length }) + '\n');
  setInterval(() => undefined, 1 << 30);
} else {
  const end = Date.now() + Number(b) * 1000;
  let waits = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < end) {
        const s = await connect();
        if (!s) {
          await sleep(10);
          continue;
        }
        s.on('data', () => undefined);
        s.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => frame({ id: i + 1, type: 'wait', params: { vm: a } }))));
        waits += 8;
        await sleep(10);
        s.destroy();
      }
    }),
  );
  process.stdout.write(JSON.stringify({ waits }) + '\n');
}
