// vmsup reset [all|vms|switches]: stops every VM (vms), resets switches, or both.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, takeJson } from './client.js';
import { matchKeyword } from './getopt.js';

const USAGE = 'reset [--json] [all | vms | switches]';

export const resetCommand: CommandDefinition = {
  names: ['reset'],
  usage: USAGE,
  help: 'Reset the running state: stop all VMs and/or reset switches.',
  async handler(args) {
    const { json, rest } = takeJson(args);
    const what = rest.length === 0 ? 'all' : rest.length === 1 ? matchKeyword(rest[0], ['all', 'vms', 'switches'] as const) : undefined;
    if (!what) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('reset', { what });
    return json ? { output: JSON.stringify(res), exitCode: EXIT_OK } : { exitCode: EXIT_OK };
  },
};
