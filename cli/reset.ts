// vmsup reset [all|vms|switches]: stops every VM (vms), resets switches, or both.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, takeJson } from './client.js';

const USAGE = 'reset [--json] [all | vms | switches]';

export const resetCommand: CommandDefinition = {
  names: ['reset'],
  usage: USAGE,
  help: 'Reset the running state: stop all VMs and/or reset switches.',
  async handler(args) {
    const { json, rest } = takeJson(args);
    const what = rest[0] ?? 'all';
    if (rest.length > 1 || !['all', 'vms', 'switches'].includes(what)) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('reset', { what: what as 'all' | 'vms' | 'switches' });
    return json ? { output: JSON.stringify(res), exitCode: EXIT_OK } : { exitCode: EXIT_OK };
  },
};
