// vmsup log brief|verbose: vmsupd's log level.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, takeJson } from './client.js';
import { matchKeyword } from './getopt.js';

const USAGE = 'log [--json] brief | verbose';

export const logCommand: CommandDefinition = {
  names: ['log'],
  usage: USAGE,
  help: "Set vmsupd's log level.",
  async handler(args) {
    const { json, rest } = takeJson(args);
    const level = rest.length === 1 ? matchKeyword(rest[0], ['brief', 'verbose'] as const) : undefined;
    if (!level) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('log', { level });
    return json ? { output: JSON.stringify(res), exitCode: EXIT_OK } : { exitCode: EXIT_OK };
  },
};
