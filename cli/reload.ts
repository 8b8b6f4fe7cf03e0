// vmsup reload: re-reads vmsupd.conf and forgets stopped transient VMs.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, takeJson } from './client.js';

const USAGE = 'reload [--json]';

export const reloadCommand: CommandDefinition = {
  names: ['reload'],
  usage: USAGE,
  help: "Reload vmsupd's settings and remove stopped transient VMs.",
  async handler(args) {
    const { json, rest } = takeJson(args);
    if (rest.length) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('reload', {});
    return json ? { output: JSON.stringify(res), exitCode: EXIT_OK } : { exitCode: EXIT_OK };
  },
};
