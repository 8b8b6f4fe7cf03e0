// vmsup disable id|name: disables the VM's autostart with vmsupd.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { oneVm } from './idarg.js';

const USAGE = 'disable [--json] id | name';

export const disableCommand: CommandDefinition = {
  names: ['disable'],
  usage: USAGE,
  help: 'Stop starting the VM with vmsupd.',
  async handler(args) {
    const { vm, json } = oneVm(args, USAGE);
    const res = await call('disable', { vm });
    if (json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`disabled vm ${res.vm.id} (${res.vm.name})`);
    return { exitCode: EXIT_OK };
  },
};
