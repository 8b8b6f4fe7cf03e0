// vmsup console id|name: attaches this terminal to the VM's console (like cu;
// `~.` detaches).
import { VmsupError } from '../daemon/protocol/errors.js';
import type { CommandDefinition } from './command.js';
import { call } from './client.js';
import { attachConsole } from './console-attach.js';
import { oneVm } from './idarg.js';

const USAGE = 'console id | name';

export const consoleCommand: CommandDefinition = {
  names: ['console'],
  usage: USAGE,
  help: "Attach to a VM's console; type ~. to detach.",
  async handler(args) {
    const { vm } = oneVm(args, USAGE);
    const res = await call('status', { vm });
    const info = res.vms[0];
    if (!info || info.state === 'stopped' || !info.tty) throw new VmsupError('NOT_RUNNING', `console: vm ${vm} is not running`);
    return { exitCode: await attachConsole(info.tty) };
  },
};
