// vmsup wait id|name: returns when the VM has stopped.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call } from './client.js';
import { oneVm } from './idarg.js';
import { terminalSafe } from './format.js';

const USAGE = 'wait [--json] id | name';

export const waitCommand: CommandDefinition = {
  names: ['wait'],
  usage: USAGE,
  help: 'Wait until the VM has stopped.',
  async handler(args) {
    const { vm, json } = oneVm(args, USAGE);
    if (!json) process.stderr.write(`vmsup: waiting for vm ${terminalSafe(vm)}: `);
    let res;
    try {
      res = await call('wait', { vm });
    } catch (e) {
      if (!json) process.stderr.write('\n');
      throw e;
    }
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    process.stderr.write(terminalSafe(`terminated vm ${res.vm.id}${res.reason ? ` (${res.reason})` : ''}`) + '\n');
    return { exitCode: EXIT_OK };
  },
};
