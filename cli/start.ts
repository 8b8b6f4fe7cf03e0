// vmsup start [-c] [-b path] [-B device] [-d disk] [-m size] [-t name] ... id|name
// Starts a defined VM, or an ad hoc (transient) one when options describe it.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { runConsole } from './console.js';
import { parseVmArgs, VM_LONG_OPTIONS, VM_OPTIONS_USAGE } from './vmopts.js';

const USAGE = `start [-c] ${VM_OPTIONS_USAGE} [--json] id | name`;

export const startCommand: CommandDefinition = {
  names: ['start'],
  options: { short: 'b:B:cd:i:Ln:m:r:t:', longWithValue: VM_LONG_OPTIONS },
  usage: USAGE,
  help: 'Start a VM (a defined one, or a new transient one), -c to attach its console.',
  async handler(args) {
    const a = parseVmArgs(args, USAGE, true);
    const hasOptions = Object.keys(a.config).length > 0;
    const res = await call('start', {
      vm: a.name!,
      ...(hasOptions ? { config: a.config } : {}),
      ...(a.template !== undefined ? { template: a.template } : {}),
    });
    if (a.json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    if (a.console) return { exitCode: await runConsole(String(res.vm.id)) };
    if (res.vm.state === 'waiting') say(`vm ${res.vm.id} is waiting for a free worker, tty ${res.vm.tty}`);
    else say(`started vm ${res.vm.id} successfully, tty ${res.vm.tty}`);
    return { exitCode: EXIT_OK };
  },
};
