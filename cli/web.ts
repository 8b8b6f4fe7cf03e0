// vmsup web: a one-time login URL for the web interface, bound to the caller's
// uid (as Jupyter prints one). The token is in the URL's fragment; it is good
// once and for 5 minutes.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say, takeJson } from './client.js';

const USAGE = 'web [--json]';

export const webCommand: CommandDefinition = {
  names: ['web'],
  usage: USAGE,
  help: 'Print a one-time login URL for the web interface (vmsupd --http).',
  async handler(args) {
    const { json, rest } = takeJson(args);
    if (rest.length) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const res = await call('web-login', {});
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    say(`open this URL in a browser before ${res.expires} (it works once):`);
    return { output: res.url, exitCode: EXIT_OK };
  },
};
