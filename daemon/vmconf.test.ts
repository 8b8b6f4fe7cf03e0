import { describe, expect, test } from 'vitest';
import { parseVmConf, VmConfError, type VmConf } from './vmconf.js';

/** An in-memory file set: parseVmConf reads only through the callback. */
function files(set: Record<string, string>) {
  return (p: string): string => {
    if (!(p in set)) throw new Error('No such file or directory');
    return set[p];
  };
}

function parse(text: string, extra: Record<string, string> = {}): VmConf {
  return parseVmConf('/etc/vm.conf', files({ '/etc/vm.conf': text, ...extra }));
}

function errors(text: string, extra: Record<string, string> = {}): string[] {
  try {
    parse(text, extra);
  } catch (e) {
    if (e instanceof VmConfError) return e.errors;
    throw e;
  }
  throw new Error('parsed without an error');
}

const SAMPLE = `# the manual's example, and then some
sets="/var/vmm"
ramdisk="/bsd.rd"
local prefix 100.64.0.0/10
socket owner root:vmsup
staggered start parallel 4 delay 15

switch "uplink" {
  interface bridge0
  locked lladdr
  group vmsup
}

vm "vm1.example.com" {
  memory 1G
  disk "/var/vmm/vm1.qcow2" format qcow2
  disk $sets/data.img
  cdrom "install.iso"
  boot $ramdisk
  boot device cdrom
  interface { switch "uplink"
    lladdr locked fe:e1:ba:d0:00:01 }
  local interface tap3
  owner alice:staff
  allow instance { boot, memory
    owner bob }
  enable
}

vm "small" instance "vm1.example.com" {
  memory 512M
  disable
}
`;

describe('vm.conf(5)', () => {
  test('macros, globals, switches, vms and instances', () => {
    const c = parse(SAMPLE);
    expect(c.localPrefix).toBe('100.64.0.0/10');
    expect(c.socketOwner).toBe('root:vmsup');
    expect(c.staggeredStart).toEqual({ parallel: 4, delay: 15 });
    expect(c.switches).toEqual([
      { name: 'uplink', file: '/etc/vm.conf', line: 8, enabled: true, interface: 'bridge0', lockedLladdr: true, group: 'vmsup', up: true },
    ]);
    const [vm1, small] = c.vms;
    expect(vm1).toMatchObject({
      name: 'vm1.example.com',
      line: 14,
      memory: 1024 ** 3,
      disks: [{ path: '/var/vmm/vm1.qcow2', format: 'qcow2' }, { path: '/var/vmm/data.img' }],
      cdrom: '/etc/install.iso',
      kernel: '/bsd.rd',
      bootDevice: 'cdrom',
      owner: 'alice:staff',
      allowInstance: { options: ['boot', 'memory'], owners: ['bob'] },
      enabled: true,
    });
    expect(vm1.interfaces).toEqual([
      { local: false, locked: true, switch: 'uplink', lladdr: 'fe:e1:ba:d0:00:01' },
      { local: true, locked: false, name: 'tap3' },
    ]);
    expect(c.vms.map((v) => v.line)).toEqual([14, 30]);
    expect(small).toMatchObject({ name: 'small', instanceOf: 'vm1.example.com', memory: 512 * 1024 ** 2, enabled: false });
  });

  test('include, relative to the including file, and backslash continuation', () => {
    const c = parse('include "vms/a.conf"\n', { '/etc/vms/a.conf': 'vm a { memory \\\n 64M\n disk a.img }\n' });
    expect(c.vms[0]).toMatchObject({ name: 'a', memory: 64 * 1024 ** 2, disks: [{ path: '/etc/vms/a.img' }], file: '/etc/vms/a.conf' });
  });

  test('every error is file:line, and one error loads nothing', () => {
    expect(errors('vm ok { memory 64M }\nvm bad {\n  memory lots\n  frobnicate\n}\n')).toEqual([
      "/etc/vm.conf:3: invalid memory size: lots (16M to 32G)",
      "/etc/vm.conf:4: syntax error: unknown vm option 'frobnicate'",
    ]);
  });

  test.each([
    ['vm a { boot $nope }', "/etc/vm.conf:1: macro 'nope' not defined"],
    ['vm = "x"', '/etc/vm.conf:1: macro name cannot be a reserved word: vm'],
    ['vm a { disk x format vmdk }', '/etc/vm.conf:1: invalid disk format: vmdk (raw or qcow2)'],
    ['vm a { boot device floppy }', '/etc/vm.conf:1: invalid boot device: floppy (disk, cdrom or net)'],
    ['vm a { owner a:b:c }', '/etc/vm.conf:1: invalid owner: a:b:c (user[:group])'],
    ['vm a { interface { lladdr 01:00:5e:00:00:01 } }', '/etc/vm.conf:1: invalid lladdr: 01:00:5e:00:00:01 is a multicast address'],
    ['vm a { disk a\ndisk b\ndisk c\ndisk d\ndisk e }', '/etc/vm.conf:5: too many disks (at most 4)'],
    ['vm a { interfaces 5 }', '/etc/vm.conf:1: invalid interface count: 5 (0 to 4)'],
    ['vm 123 { }', '/etc/vm.conf:1: invalid vm name: 123'],
    ['vm a { }\nvm a { }', '/etc/vm.conf:2: vm "a" defined twice'],
    ['vm a {\n memory 64M\n', "/etc/vm.conf:1: syntax error: missing '}'"],
    ['vm a { cmdline "unterminated }', '/etc/vm.conf:1: unterminated quoted string'],
    ['}', "/etc/vm.conf:1: syntax error: unexpected '}'"],
    ['local prefix 10.0.0.0/31', '/etc/vm.conf:1: invalid local prefix: 10.0.0.0/31'],
    ['vm a instance a { }', '/etc/vm.conf:1: vm "a" cannot be an instance of itself'],
    ['include "missing.conf"', '/etc/vm.conf:0: cannot read /etc/missing.conf: No such file or directory'],
  ])('%j is refused', (text, message) => {
    expect(errors(text)).toContain(message);
  });

  test('jit yes | no: the execution engine (issue 11)', () => {
    const c = parse('vm a { boot "/k"\n jit no }\nvm b { boot "/k"\n jit yes }\nvm c { boot "/k" }\n');
    expect(c.vms.map((v) => v.jit)).toEqual([false, true, undefined]);
    expect(errors('vm a {\n  jit maybe\n}\n')).toEqual(['/etc/vm.conf:2: invalid jit setting: maybe (yes or no)']);
  });

  test('an include loop is refused, not followed', () => {
    expect(errors('include "b.conf"', { '/etc/b.conf': 'include "vm.conf"' })).toContain('/etc/vm.conf:0: include loop');
  });

  // scripts/fuzz-vmconf.sh runs the same loop longer (VMSUP_FUZZ_VMCONF mutants, VMSUP_FUZZ_SEED).
  const MUTANTS = Number(process.env.VMSUP_FUZZ_VMCONF ?? 3000);
  test(`a seeded fuzz run of ${MUTANTS} mutants: each ends in a configuration or file:line errors, never anything else`, { timeout: 3_600_000 }, () => {
    // xorshift32: the same seed gives the same mutants on every run.
    let x = Number(process.env.VMSUP_FUZZ_SEED ?? 0x5eed1234) >>> 0 || 1;
    const rnd = (n: number) => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % n;
    };
    const alphabet = ['{', '}', '"', '\\', '\n', '#', '$', '=', ',', ' ', 'vm', 'include', 'interface', 'allow instance', '\0', 'é', 'x'.repeat(70)];
    let parsed = 0;
    let refused = 0;
    for (let n = 0; n < MUTANTS; n++) {
      let s = SAMPLE;
      for (let k = rnd(6) + 1; k > 0; k--) {
        const at = rnd(s.length + 1);
        const op = rnd(3);
        if (op === 0) s = s.slice(0, at) + s.slice(at + rnd(20));
        else if (op === 1) s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at);
        else s = s.slice(0, at) + s.slice(rnd(s.length), rnd(s.length)) + s.slice(at);
      }
      try {
        const c = parse(s, { '/etc/vm.conf.inc': s });
        expect(Array.isArray(c.vms)).toBe(true);
        parsed++;
      } catch (e) {
        if (!(e instanceof VmConfError)) throw new Error(`mutant ${n} threw ${String(e)}\n${s}`);
        for (const m of e.errors) expect(m).toMatch(/^\/etc\/vm\.conf[^:]*:\d+: /);
        refused++;
      }
    }
    expect(parsed + refused).toBe(MUTANTS);
    expect(refused).toBeGreaterThan(0);
  });
});
