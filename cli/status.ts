// vmsup status|show [-r] [id|name]: vmctl's table. -r: running VMs only.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_FAIL, EXIT_OK, type CommandDefinition } from './command.js';
import { checkVmArg } from './idarg.js';
import { call } from './client.js';
import { statusTable } from './format.js';

const USAGE = 'status [-r] [--json] [id | name]';

export const statusCommand: CommandDefinition = {
  names: ['show', 'status'],
  options: { short: 'r' },
  usage: USAGE,
  help: 'Show VMs: ID PID VCPUS MAXMEM CURMEM TTY OWNER STATE NAME.',
  async handler(args) {
    let running = false;
    let json = false;
    let vm: string | undefined;
    for (const a of args) {
      if (a === '--json') json = true;
      else if (a === '-r') running = true;
      else if (a.startsWith('-')) throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
      else if (vm !== undefined) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
      else vm = checkVmArg(a);
    }
    const res = await call('status', vm !== undefined ? { vm } : {});
    const vms = running ? res.vms.filter((v) => v.state !== 'stopped') : res.vms;
    if (json) return { output: JSON.stringify(vms), exitCode: EXIT_OK };
    if (vm !== undefined && vms.length === 0) return { exitCode: EXIT_FAIL };
    return { output: statusTable(vms), exitCode: EXIT_OK };
  },
};
