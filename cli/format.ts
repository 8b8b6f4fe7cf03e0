// vmctl's status table (print_vm_info), its fmt_scaled(3) sizes, and the one
// escape every string from the daemon goes through before it reaches a terminal.
import type { VmInfo } from '../daemon/protocol/messages.js';

/**
 * Control characters that a terminal acts on: C0 (but tab and newline), DEL,
 * C1 (0x9b is a one-byte CSI on some terminals), and the Unicode bidi
 * overrides that reorder what is shown. VM names, reasons, file names in
 * errors and events come from other users or from image files: an attacker
 * could otherwise move the cursor, retitle the window or hide text.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text safe to print: each unsafe character becomes `\uXXXX`, which is
 * visible on a terminal and, inside a JSON string, the same character again
 * (so JSON output stays valid and lossless). Tabs and newlines are kept.
 */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** fmt_scaled: 1023B, 512M, 1.5G (one decimal below 10 of a unit). */
export function fmtScaled(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n}B`;
  return v < 10 ? `${(Math.round(v * 10) / 10).toFixed(1)}${units[u]}` : `${Math.round(v)}${units[u]}`;
}

function owner(vm: VmInfo): string {
  return vm.owner.group && vm.owner.gid !== vm.owner.uid && vm.owner.group !== vm.owner.user
    ? `${vm.owner.user}:${vm.owner.group}`
    : vm.owner.user;
}

export function statusTable(vms: VmInfo[]): string {
  const row = (c: string[]) =>
    `${c[0].padStart(5)} ${c[1].padStart(5)} ${c[2].padStart(5)} ${c[3].padStart(7)} ${c[4].padStart(7)} ${c[5].padStart(7)} ${c[6].padStart(12)} ${c[7].padStart(8)} ${c[8]}`;
  // PID: vmctl shows each VM's process there. A vmsup VM is a thread of
  // vmsupd, and a signal sent to a thread id goes to the whole daemon (every
  // VM), so the column shows '-' and nothing that invites `kill`: stop one VM
  // with `vmsup stop`. (--json keeps the thread id as `pid`, for /proc.)
  const lines = [row(['ID', 'PID', 'VCPUS', 'MAXMEM', 'CURMEM', 'TTY', 'OWNER', 'STATE', 'NAME'])];
  for (const vm of vms) {
    const on = vm.state !== 'stopped';
    lines.push(
      row([
        String(vm.id),
        '-',
        String(vm.cpus),
        fmtScaled(vm.memory),
        on && vm.curmem > 0 ? fmtScaled(vm.curmem) : '-',
        on && vm.tty ? vm.tty.replace(/^\/dev\//, '') : '-',
        owner(vm),
        vm.state,
        vm.name,
      ]),
    );
  }
  return terminalSafe(lines.join('\n'));
}
