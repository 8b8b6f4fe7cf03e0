// vmsup restore file: starts the stopped VM a `vmsup save` file names, from its saved state.
import path from 'node:path';
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say, takeJson } from './client.js';

const USAGE = 'restore [--json] [-f] file';

export const restoreCommand: CommandDefinition = {
  names: ['restore'],
  usage: USAGE,
  help: 'Start the (stopped) VM a saved file belongs to, continuing from the saved state ' +
    '(-f: even when a disk was modified since the save).',
  async handler(args) {
    const { json, rest: all } = takeJson(args);
    const force = all.includes('-f');
    const rest = all.filter((a) => a !== '-f');
    const bad = rest.find((a) => a.startsWith('-'));
    if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${USAGE}`);
    if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('restore', force ? { path: path.resolve(rest[0]), force } : { path: path.resolve(rest[0]) });
    if (json) return { output: JSON.stringify(res.vm), exitCode: EXIT_OK };
    say(`restored vm ${res.vm.id} (${res.vm.name}) successfully, tty ${res.vm.tty}`);
    return { exitCode: EXIT_OK };
  },
};
