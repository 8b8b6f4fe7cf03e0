#!/usr/bin/env node
// Disk boot benchmark: wall time from spawning the emulator to the guest's VMSUP-GUEST-READY line,
// and to the process's exit (the guest powers off: vmsup.test=poweroff in extlinux.conf), for
// vmsup run and qemu-system-riscv64 booting the same disk with the same OpenSBI + U-Boot.
// Runs are interleaved (vmsup, qemu, vmsup, ...) after one warm-up each, so load from the rest of
// this shared machine falls on both; figures are medians. A peer that misses the marker is
// reported as such, nothing is estimated.
// Usage: node bench/boot-disk/boot-disk.mjs DISK   (bench/boot-disk/run.sh builds DISK)
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIRMWARE = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT ?? 120);
const disk = process.argv[2];
if (!disk || !fs.existsSync(disk) || !(RUNS >= 1) || !(TIMEOUT_S >= 1)) {
  console.error('usage: BENCH_RUNS=n BENCH_TIMEOUT=s node bench/boot-disk/boot-disk.mjs DISK');
  process.exit(2);
}
const copy = `${disk}.run`;

const PEERS = {
  vmsup: {
    label: 'vmsup run -d disk (default fw_dynamic + U-Boot)',
    argv: () => [process.execPath, path.join(REPO, 'bin/vmsup'), 'run', '-m', '256M', '-d', copy],
  },
  qemu: {
    label: 'qemu -M virt -bios fw_dynamic -kernel u-boot.bin',
    argv: () => ['qemu-system-riscv64', '-M', 'virt', '-m', '256M', '-nographic', '-bios', FIRMWARE,
      '-kernel', UBOOT, '-drive', `file=${copy},if=none,format=raw,id=d0`, '-device', 'virtio-blk-device,drive=d0'],
  },
};
let qemuOk = true;
try { execFileSync('qemu-system-riscv64', ['--version'], { stdio: 'ignore' }); } catch { qemuOk = false; }
const names = Object.keys(PEERS).filter((n) => n !== 'qemu' || qemuOk);

function once(name) {
  fs.copyFileSync(disk, copy);  // each run sees the same bytes
  const argv = PEERS[name].argv();
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ready;
    let banner;
    const timer = setTimeout(() => p.kill('SIGKILL'), TIMEOUT_S * 1000);
    p.stdout.on('data', (b) => {
      out += b.toString('latin1');
      if (banner === undefined && /U-Boot 20/.test(out)) banner = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ready === undefined && /VMSUP-GUEST-READY/.test(out)) ready = Number(process.hrtime.bigint() - t0) / 1e6;
    });
    p.stderr.on('data', () => {});
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ready, banner, exit: Number(process.hrtime.bigint() - t0) / 1e6, code });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const res = Object.fromEntries(names.map((n) => [n, { ready: [], banner: [], exit: [], fail: 0 }]));
for (const n of names) await once(n);  // warm-up (page cache, first-run costs)
for (let i = 0; i < RUNS; i++) {
  for (const n of names) {
    const r = await once(n);
    if (r.ready === undefined || r.code !== 0) res[n].fail++;
    else { res[n].ready.push(r.ready); res[n].exit.push(r.exit); res[n].banner.push(r.banner ?? NaN); }
  }
}
fs.rmSync(copy, { force: true });

console.log(`bench/boot-disk: ${RUNS} interleaved runs each (after 1 warm-up), medians, disk ${path.basename(disk)}`);
console.log('  (both peers count down U-Boot\'s default bootdelay of 2 s)');
for (const n of names) {
  const r = res[n];
  if (r.ready.length === 0) { console.log(`  ${PEERS[n].label}: never reached the marker (${r.fail} failed)`); continue; }
  console.log(`  ${PEERS[n].label}: to U-Boot's banner ${(median(r.banner) / 1000).toFixed(2)} s, to marker ${(median(r.ready) / 1000).toFixed(2)} s, to exit ${(median(r.exit) / 1000).toFixed(2)} s` +
    (r.fail ? ` (${r.fail} runs failed)` : ''));
}
if (names.includes('qemu') && res.vmsup.ready.length && res.qemu.ready.length) {
  const ratio = median(res.vmsup.ready) / median(res.qemu.ready);
  console.log(`  ratio vmsup/qemu, start to marker: ${ratio.toFixed(2)}x (bar: 1.2x) ${ratio <= 1.2 ? 'MET' : 'NOT MET'}`);
  console.log(`  ratio vmsup/qemu, start to exit:   ${(median(res.vmsup.exit) / median(res.qemu.exit)).toFixed(2)}x`);
  const after = (r) => median(r.ready.map((v, i) => v - r.banner[i]));
  console.log(`  ratio vmsup/qemu, U-Boot's banner to marker (2 s bootdelay included): ${(after(res.vmsup) / after(res.qemu)).toFixed(2)}x`);
}
