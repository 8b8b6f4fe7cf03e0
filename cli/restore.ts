// vmsup restore file: starts the stopped VM a `vmsup save` file names, from its saved state.
import path from 'node:path';
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say, takeJson } from './client.js';

const USAGE = 'restore [--json] file';

export const restoreCommand: CommandDefinition = {
  names: ['restore'],
  usage: USAGE,
  help: 'Start the (stopped) VM a saved file belongs to, continuing from the saved state.',
  async handler(args) {
    const { json, rest } = takeJson(args);
    const bad = rest.find((a) => a.startsWith('-'));
    if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${USAGE}`);
    if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('restore', { path: path.resolve(rest[0]) });
    if (json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`restored vm ${res.vm.id} (${res.vm.name}) successfully, tty ${res.vm.tty}`);
    return { exitCode: EXIT_OK };
  },
};
