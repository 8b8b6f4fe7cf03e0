// vmsup pause id|name
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { oneVm } from './idarg.js';

const USAGE = 'pause [--json] id | name';

export const pauseCommand: CommandDefinition = {
  names: ['pause'],
  usage: USAGE,
  help: 'Pause a running VM (it then costs no CPU).',
  async handler(args) {
    const { vm, json } = oneVm(args, USAGE);
    const res = await call('pause', { vm });
    if (json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`paused vm ${res.vm.id} successfully`);
    return { exitCode: EXIT_OK };
  },
};
