// vmsup unpause id|name
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { oneVm } from './idarg.js';

const USAGE = 'unpause [--json] id | name';

export const unpauseCommand: CommandDefinition = {
  names: ['unpause'],
  usage: USAGE,
  help: 'Resume a paused VM.',
  async handler(args) {
    const { vm, json } = oneVm(args, USAGE);
    const res = await call('unpause', { vm });
    if (json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`unpaused vm ${res.vm.id} successfully`);
    return { exitCode: EXIT_OK };
  },
};
