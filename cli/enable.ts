// vmsup enable id|name: enables the VM's autostart with vmsupd.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { oneVm } from './idarg.js';

const USAGE = 'enable [--json] id | name';

export const enableCommand: CommandDefinition = {
  names: ['enable'],
  usage: USAGE,
  help: 'Start the VM whenever vmsupd starts.',
  async handler(args) {
    const { vm, json } = oneVm(args, USAGE);
    const res = await call('enable', { vm });
    if (json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`enabled vm ${res.vm.id} (${res.vm.name})`);
    return { exitCode: EXIT_OK };
  },
};
