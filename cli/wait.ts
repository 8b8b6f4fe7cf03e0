// vmsup wait id|name: returns when the VM has stopped.
import { asVmsupError } from '../daemon/protocol/errors.js';
import { EXIT_FAIL, EXIT_OK, type CommandDefinition } from './command.js';
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
    // One line, as vmctl prints it: "waiting for vm NAME: " is finished by the
    // outcome, or by the error, on the same line.
    if (!json) process.stderr.write(`vmsup: waiting for vm ${terminalSafe(vm)}: `);
    let res;
    try {
      res = await call('wait', { vm });
    } catch (e) {
      if (json) throw e;
      const err = asVmsupError(e);
      process.stderr.write(`${terminalSafe(err.message)}\n`);
      if (err.hint) process.stderr.write(`vmsup: ${err.hint}\n`);
      return { exitCode: EXIT_FAIL };
    }
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    const why = res.reason ? ` (${res.reason})` : '';
    if (!res.waited) process.stderr.write(terminalSafe(`vm ${res.vm.id} is not running: it is ${res.vm.state}${why}`) + '\n');
    else process.stderr.write(terminalSafe(`terminated vm ${res.vm.id}${why}`) + '\n');
    return { exitCode: EXIT_OK };
  },
};
