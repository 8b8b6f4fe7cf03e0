// The Supervisor as a unit: built over an in-memory Repository and a real
// worker pool (piscina running dist/workers/vm-worker.js), no socket, no
// daemon process. Drives define/start/pause/stop/undefine and checks the state
// transitions it records, and that a VmHandle's dispose() releases what it holds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Repository } from '../../db/repository.js';
import { Logger } from '../../daemon/log.js';
import { ROOT_PEER, Supervisor } from '../../daemon/supervisor.js';
import { VmHandle, createPool } from '../../daemon/vm-handle.js';
import { VmFiles } from '../../daemon/vmfiles.js';
import type { EventRecord } from '../../daemon/protocol/messages.js';
import type { VmRecord } from '../../db/repository.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKER = path.join(root, 'dist/workers/vm-worker.js');
const GUEST = '/work/shared/guest';

class QuietLog extends Logger {
  lines: string[] = [];
  constructor() {
    super(false);
  }
  override info(m: string): void {
    this.lines.push(m);
  }
  override warn(m: string): void {
    this.lines.push(`warning: ${m}`);
  }
}

let dir: string;
let sup: Supervisor;
let repo: Repository;
const log = new QuietLog();
const events: EventRecord[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-sup-unit-'));
  repo = new Repository(':memory:');
  sup = new Supervisor(dir, log, { repo, pool: createPool(WORKER, 2) });
  sup.events.on('event', (ev) => events.push(ev));
});

afterAll(async () => {
  await sup?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const transitions = (vm: string) => events.filter((e) => e.vm === vm && e.from !== e.to).map((e) => e.to);

test('define, start, pause, unpause, stop -f, undefine: the states, in memory and in the repository', async () => {
  expect(fs.existsSync(WORKER), 'dist/ is built (bash scripts/build.sh)').toBe(true);
  const def = await sup.define(ROOT_PEER, {
    name: 'unit1',
    config: { kernel: `${GUEST}/Image`, initrd: `${GUEST}/initramfs.cpio.gz`, memory: 128 << 20, cmdline: 'console=ttyS0 quiet' },
  });
  expect(def.vm).toMatchObject({ name: 'unit1', state: 'stopped', memory: 128 << 20 });
  expect(repo.listVms().map((v) => [v.name, v.state])).toEqual([['unit1', 'stopped']]);
  await expect(sup.define(ROOT_PEER, { name: 'unit1', config: { kernel: `${GUEST}/Image` } })).rejects.toThrow(/already exists/);

  const started = await sup.start(ROOT_PEER, { vm: 'unit1' });
  expect(started.vm.state).toBe('running');
  expect(started.vm.tty).toMatch(/^\/dev\/pts\//);
  await expect(sup.start(ROOT_PEER, { vm: 'unit1' })).rejects.toThrow(/already running/);
  expect(repo.listVms()[0].state).toBe('running');

  await sup.pause(ROOT_PEER, { vm: 'unit1' }, true);
  expect((await sup.status(ROOT_PEER, { vm: 'unit1' })).vms[0].state).toBe('paused');
  await sup.pause(ROOT_PEER, { vm: 'unit1' }, false);
  expect((await sup.status(ROOT_PEER, { vm: 'unit1' })).vms[0].state).toBe('running');

  const stopped = await sup.stop(ROOT_PEER, { vm: 'unit1', force: true });
  expect(stopped.stopped).toEqual([{ id: def.vm.id, name: 'unit1', outcome: 'forced' }]);
  const st = (await sup.status(ROOT_PEER, { vm: 'unit1' })).vms[0];
  expect(st).toMatchObject({ state: 'stopped', tty: null, pid: null });
  expect(st.reason).toMatch(/forced to stop by root/);
  await expect(sup.stop(ROOT_PEER, { vm: 'unit1' })).rejects.toThrow(/cannot stop vm that is not running/);

  // The pty is gone with the VM (dispose closed both sides).
  expect(fs.existsSync(started.vm.tty!)).toBe(false);

  await sup.undefine(ROOT_PEER, { vm: 'unit1' });
  expect(repo.listVms()).toEqual([]);
  expect(transitions('unit1')).toEqual(['defined', 'waiting', 'starting', 'running', 'paused', 'running', 'stopping', 'stopped', 'undefined']);
  // The repository's event log holds the same history.
  expect(repo.events('unit1', 100).filter((e) => e.from !== e.to).map((e) => e.to)).toEqual(transitions('unit1'));
});

test('a transient vm: start with options creates it, a failed start forgets it', async () => {
  await expect(sup.start(ROOT_PEER, { vm: 'unit2', config: { kernel: `${dir}/missing` } })).rejects.toThrow(/start vm command failed/);
  expect((await sup.status(ROOT_PEER, {})).vms.map((v) => v.name)).not.toContain('unit2');
  await expect(sup.status({ pid: 1, uid: 4242, gid: 4242, groups: new Set([4242]) }, { vm: 'nope' })).rejects.toThrow(/vm not found: nope/);
});

test("a VmHandle keeps the console history, hands it to a console client, and dispose() closes its port, wake fd and pty, once", async () => {
  const vm: VmRecord = {
    id: 99, name: 'handle', ownerUid: 0, ownerGid: 0, memory: 64 << 20, cpus: 1, kernel: null, initrd: null, cmdline: '', bios: null,
    bootDevice: null, disks: [], nics: [], enabled: false, transient: true, template: null, source: null, allowInstance: null,
    state: 'stopped', tty: null, tid: null, startedAt: null, reason: null,
  };
  const h = new VmHandle({ vm, files: new VmFiles(undefined, undefined, undefined, []), boot: vm, ttyGid: -1, nics: () => [], log });
  const open = (fd: number) => {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  };
  expect(open(h.wakeFd) && open(h.pty.master)).toBe(true);
  expect(fs.existsSync(h.pty.path)).toBe(true);
  // What the guest writes (the UART writes the pty master) reaches the history through the drain.
  fs.writeSync(h.pty.master, 'hello from the guest\n');
  for (let i = 0; i < 200 && !h.historyTail().toString().includes('hello'); i++) await new Promise((r) => setTimeout(r, 10));
  expect(h.historyTail().toString()).toContain('hello from the guest');
  expect(h.claimConsole().toString()).toContain('hello from the guest');
  expect(h.attached).toBe(true);
  expect(h.historyTail().length).toBe(0);
  h.releaseConsole();
  expect(h.attached).toBe(false);
  h.restoreHistory(Buffer.from('saved before a restart\n'));
  expect(h.historyTail().toString()).toBe('saved before a restart\n');
  const ended: string[] = [];
  h.viewers.push({ output: () => undefined, role: () => undefined, end: (why) => ended.push(why) });
  h.dispose('test over');
  expect(h.isDisposed).toBe(true);
  expect(open(h.wakeFd)).toBe(false);
  expect(fs.existsSync(h.pty.path)).toBe(false);
  expect(ended).toEqual(['test over']);
  h.dispose('again'); // idempotent: nothing closed twice, viewers not ended twice
  expect(ended).toEqual(['test over']);
});
