// vmsup save id|name file: a paused VM's whole state into a new file (the VM stays paused).
import path from 'node:path';
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say, takeJson } from './client.js';

const USAGE = 'save [--json] id | name file';

export const saveCommand: CommandDefinition = {
  names: ['save'],
  usage: USAGE,
  help: 'Save a paused VM (vmsup pause first) into a new file; vmsup restore file continues it.',
  async handler(args) {
    const { json, rest } = takeJson(args);
    const bad = rest.find((a) => a.startsWith('-'));
    if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${USAGE}`);
    if (rest.length !== 2) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('save', { vm: rest[0], path: path.resolve(rest[1]) });
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    say(`saved vm ${res.vm.id} to ${rest[1]} (${(res.bytes / 1048576).toFixed(1)} MiB in ${res.ms} ms)`);
    return { exitCode: EXIT_OK };
  },
};
