// /metrics: the VMs a session may see, in the Prometheus text format, written
// by prom-client. A registry is built per scrape from the VMs that caller may
// see, so one user's scrape never shows another user's VMs.
import { Counter, Gauge, Registry } from 'prom-client';
import type { VmInfo } from '../protocol/messages.js';

/** Device counters are named <device><index>_<counter> (blk0_read_bytes): split them. */
function splitCounter(name: string): { device: string; counter: string } {
  const m = /^([a-z]+\d+)_(.+)$/.exec(name);
  return m ? { device: m[1], counter: m[2] } : { device: 'board', counter: name };
}

export async function prometheusText(vms: VmInfo[]): Promise<{ text: string; contentType: string }> {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[] = ['vm']) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const c = (name: string, help: string, labelNames: string[] = ['vm']) =>
    new Counter({ name, help, labelNames, registers: [registry] });

  const info = g('vmsup_vm_info', 'One per VM the caller may see, with its state and owner.', ['vm', 'id', 'state', 'owner']);
  const vcpus = g('vmsup_vm_vcpus', 'Virtual CPUs.');
  const memory = g('vmsup_vm_memory_bytes', 'Guest RAM size.');
  const resident = g('vmsup_vm_resident_bytes', 'Guest RAM backed by the host.');
  const codeCache = g('vmsup_vm_code_cache_bytes', "Host memory held by the JIT's translated code.");
  const mips = g('vmsup_vm_mips', 'Guest instructions retired in the last second, millions per second.');
  const cpu = g('vmsup_vm_cpu_percent', 'Host CPU used by the VM thread in the last second, % of one core.');
  const instr = c('vmsup_vm_instructions_total', 'Guest instructions retired since the VM started.');
  const cpuSec = c('vmsup_vm_cpu_seconds_total', 'Host CPU time of the VM thread since it started.');
  const irq = c('vmsup_vm_interrupts_total', 'External interrupts delivered to the guest (PLIC claims).');
  const cons = c('vmsup_vm_console_bytes_total', 'Console bytes, by direction (out = written by the guest).', ['vm', 'direction']);
  const dev = c('vmsup_vm_device_total', 'Device counters (virtio-blk requests and bytes, and so on).', ['vm', 'device', 'counter']);

  for (const vm of vms) {
    info.set({ vm: vm.name, id: String(vm.id), state: vm.state, owner: vm.owner.user }, 1);
    vcpus.set({ vm: vm.name }, vm.cpus);
    memory.set({ vm: vm.name }, vm.memory);
    const m = vm.metrics;
    if (!m) continue;
    resident.set({ vm: vm.name }, m.rss);
    codeCache.set({ vm: vm.name }, m.codeCacheBytes ?? 0);
    mips.set({ vm: vm.name }, m.mips);
    cpu.set({ vm: vm.name }, m.cpu);
    instr.inc({ vm: vm.name }, m.instret);
    cpuSec.inc({ vm: vm.name }, m.cpuSeconds);
    for (const [name, v] of Object.entries(m.counters)) {
      if (name === 'interrupts') irq.inc({ vm: vm.name }, v);
      else if (name === 'console_out_bytes') cons.inc({ vm: vm.name, direction: 'out' }, v);
      else if (name === 'console_in_bytes') cons.inc({ vm: vm.name, direction: 'in' }, v);
      else dev.inc({ vm: vm.name, ...splitCounter(name) }, v);
    }
  }
  return { text: await registry.metrics(), contentType: registry.contentType };
}
