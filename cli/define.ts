// vmsup define NAME [start's options]: stores a VM that survives reboots.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { parseVmArgs, VM_LONG_OPTIONS, VM_OPTIONS_USAGE } from './vmopts.js';

const USAGE = `define [--replace] ${VM_OPTIONS_USAGE} [--json] name`;

export const defineCommand: CommandDefinition = {
  names: ['define'],
  options: { short: 'b:B:d:i:Ln:m:r:t:', longWithValue: VM_LONG_OPTIONS },
  usage: USAGE,
  help: 'Define a persistent VM (enable it to start it with vmsupd).',
  async handler(args) {
    const a = parseVmArgs(args, USAGE, false);
    const res = await call('define', {
      name: a.name!,
      config: a.config,
      ...(a.template !== undefined ? { template: a.template } : {}),
      ...(a.replace ? { replace: true } : {}),
    });
    if (a.json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`${a.replace ? 'redefined' : 'defined'} vm ${res.vm.id} (${res.vm.name})`);
    return { exitCode: EXIT_OK };
  },
};
