// vmsup console id|name: attaches this terminal to the VM's console (like cu;
// `~.` detaches). The daemon hands over the output buffered while nobody was
// attached and stops draining the pty for as long as this connection lasts.
import { EXIT_OK, type CommandDefinition } from './command.js';
import { Client } from './client.js';
import { attachConsole } from './console-attach.js';
import { oneVm } from './idarg.js';

const USAGE = 'console id | name';

/** Claims the console of `vm` and runs the session; used by start -c too. */
export async function runConsole(vm: string): Promise<number> {
  const c = await Client.connect();
  try {
    const res = await c.request('console', { vm });
    process.stdout.write(Buffer.from(res.history, 'base64'));
    return await attachConsole(res.tty);
  } finally {
    c.close();
  }
}

export const consoleCommand: CommandDefinition = {
  names: ['console'],
  usage: USAGE,
  help: "Attach to a VM's console; type ~. to detach.",
  async handler(args) {
    const { vm } = oneVm(args, USAGE);
    await runConsole(vm);
    return { exitCode: EXIT_OK };
  },
};
