// vmsup top [-o field] [-d seconds] [-n count] [-b] [--json]: a live view of
// the VMs' metrics, one line per VM, redrawn in place like top(1).
// Keys: q quits; c, m, i, n sort by CPU (default), memory, MIPS, name.
// Without a terminal, or with -b, it prints -n frames (default 1) one after another.
import { VmsupError } from '../daemon/protocol/errors.js';
import type { VmInfo } from '../daemon/protocol/messages.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { Client } from './client.js';

const USAGE = 'top [-b] [-o cpu|mem|mips|io|name] [-d seconds] [-n count] [--json]';
const SORTS = ['cpu', 'mem', 'mips', 'io', 'name'] as const;
type Sort = (typeof SORTS)[number];

const IO = ['_read_bytes', '_write_bytes', '_rx_bytes', '_tx_bytes'];
const io = (r: Record<string, number> | undefined) =>
  Object.entries(r ?? {}).reduce((s, [k, v]) => (IO.some((x) => k.endsWith(x)) ? s + v : s), 0);

function human(n: number): string {
  const u = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)}${u[i]}`;
}

export function sortVms(vms: VmInfo[], by: Sort): VmInfo[] {
  const key = (v: VmInfo): number => {
    const m = v.metrics;
    if (by === 'cpu') return m?.cpu ?? -1;
    if (by === 'mem') return m?.rss ?? -1;
    if (by === 'mips') return m?.mips ?? -1;
    return io(m?.rates);
  };
  return [...vms].sort((a, b) => (by === 'name' ? a.name.localeCompare(b.name) : key(b) - key(a) || a.id - b.id));
}

/** One frame: a summary line, a header, one line per VM (at most `rows` lines in all). */
export function frame(vms: VmInfo[], by: Sort, width: number, rows: number): string[] {
  const running = vms.filter((v) => v.metrics).length;
  const cpu = vms.reduce((s, v) => s + (v.metrics?.cpu ?? 0), 0);
  const lines = [
    `vmsup top - ${new Date().toTimeString().slice(0, 8)} - ${vms.length} vms, ${running} running, ${cpu.toFixed(1)}% cpu - sorted by ${by} (q quits; c m i o n sort)`,
    '',
    `${'ID'.padStart(4)} ${'NAME'.padEnd(16)} ${'STATE'.padEnd(8)} ${'CPU%'.padStart(6)} ${'MIPS'.padStart(8)} ${'RES'.padStart(6)} ${'DISK/s'.padStart(7)} ${'IRQ/s'.padStart(6)} ${'CONS/s'.padStart(7)} OWNER`,
  ];
  for (const v of sortVms(vms, by)) {
    const m = v.metrics;
    const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
    lines.push(
      `${String(v.id).padStart(4)} ${v.name.slice(0, 16).padEnd(16)} ${v.state.padEnd(8)} ${f(m?.cpu).padStart(6)} ${f(m?.mips).padStart(8)} ${(m ? human(m.rss) : '-').padStart(6)} ${(m ? human(io(m.rates)) : '-').padStart(7)} ${f(m?.rates.interrupts, 0).padStart(6)} ${(m ? human(m.rates.console_out_bytes ?? 0) : '-').padStart(7)} ${v.owner.user}`,
    );
  }
  return lines.slice(0, Math.max(3, rows)).map((l) => l.slice(0, Math.max(20, width)));
}

export const topCommand: CommandDefinition = {
  names: ['top'],
  usage: USAGE,
  help: 'Live per-VM metrics (CPU, MIPS, memory, disk, interrupts, console), refreshed in place like top(1).',
  async handler(args, ctx) {
    let by: Sort = 'cpu';
    let delay = 1;
    let count: number | undefined;
    let batch = false;
    let json = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const val = () => {
        const v = args[++i];
        if (v === undefined) throw new VmsupError('USAGE', `option ${a} requires an argument\nusage: vmsup ${USAGE}`);
        return v;
      };
      if (a === '--json') json = true;
      else if (a === '-b') batch = true;
      else if (a === '-o') {
        const v = val();
        if (!(SORTS as readonly string[]).includes(v)) throw new VmsupError('USAGE', `invalid sort field: ${v}\nusage: vmsup ${USAGE}`);
        by = v as Sort;
      } else if (a === '-d') {
        const v = Number(val());
        if (!Number.isFinite(v) || v < 0.2 || v > 3600) throw new VmsupError('USAGE', 'invalid delay: 0.2 to 3600 seconds');
        delay = v;
      } else if (a === '-n') {
        const v = val();
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new VmsupError('USAGE', `invalid count: ${v}`);
        count = Number(v);
      } else throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
    }
    const c = await Client.connect();
    try {
      const fetchVms = async () => (await c.request('metrics', {})).vms.map((x) => x.info);
      if (json) return { output: JSON.stringify(await fetchVms()), exitCode: EXIT_OK };
      const live = !batch && ctx.stdoutIsTTY;
      if (!live) {
        const n = count ?? 1;
        for (let i = 0; i < n; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, delay * 1000));
          process.stdout.write(frame(await fetchVms(), by, 1000, 10_000).join('\n') + '\n\n');
        }
        return { exitCode: EXIT_OK };
      }
      return { exitCode: await liveTop(fetchVms, by, delay, count, ctx.stdinIsTTY) };
    } finally {
      c.close();
    }
  },
};

async function liveTop(fetchVms: () => Promise<VmInfo[]>, sort: Sort, delay: number, count: number | undefined, keys: boolean): Promise<number> {
  const out = process.stdout;
  const stdin = process.stdin;
  let by = sort;
  let quit: () => void = () => undefined;
  const done = new Promise<void>((r) => (quit = r));
  let wake: () => void = () => undefined;
  const onKey = (b: Buffer) => {
    for (const ch of b.toString('latin1')) {
      if (ch === 'q' || ch === '\x03') quit();
      else if (ch === 'c') by = 'cpu';
      else if (ch === 'm') by = 'mem';
      else if (ch === 'i') by = 'mips';
      else if (ch === 'o') by = 'io';
      else if (ch === 'n') by = 'name';
      else continue;
      wake();
    }
  };
  const onSignal = () => quit();
  if (keys) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The alternate screen, cursor hidden: the shell's screen comes back on exit.
  out.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
  let stopped = false;
  void done.then(() => {
    stopped = true;
    wake();
  });
  try {
    let vms: VmInfo[] = [];
    for (let i = 0; !stopped && (count === undefined || i < count); i++) {
      vms = await fetchVms();
      const lines = frame(vms, by, out.columns ?? 80, out.rows ?? 24);
      // Home, each line then clear to its end, then clear below: no flicker.
      out.write('\x1b[H' + lines.map((l) => l + '\x1b[K').join('\r\n') + '\x1b[J');
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay * 1000);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  } finally {
    out.write('\x1b[?25h\x1b[?1049l');
    if (keys) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
