// vmsup undefine id|name: forgets a stopped VM's definition.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { oneVm } from './idarg.js';

const USAGE = 'undefine [--json] id | name';

export const undefineCommand: CommandDefinition = {
  names: ['undefine'],
  usage: USAGE,
  help: 'Remove a stopped VM definition.',
  async handler(args) {
    const { vm, json } = oneVm(args, USAGE);
    const res = await call('undefine', { vm });
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    say(`undefined vm ${res.id} (${res.name})`);
    return { exitCode: EXIT_OK };
  },
};
