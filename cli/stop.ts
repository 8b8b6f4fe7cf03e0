// vmsup stop [-fw] [id|name|-a]: Ctrl-Alt-Del to the guest; -w waits until it
// is off, -f forces it off now, -a stops every VM the caller may control.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { checkVmArg } from './idarg.js';
import { call } from './client.js';
import { terminalSafe } from './format.js';

const USAGE = 'stop [-fw] [--json] [id | name | -a]';

export const stopCommand: CommandDefinition = {
  names: ['stop'],
  options: { short: 'afw' },
  usage: USAGE,
  help: 'Shut a VM down (Ctrl-Alt-Del); -w wait, -f force, -a all.',
  async handler(args) {
    let force = false;
    let wait = false;
    let all = false;
    let json = false;
    let vm: string | undefined;
    for (const a of args) {
      if (a === '--json') json = true;
      else if (/^-[fwa]+$/.test(a)) {
        force ||= a.includes('f');
        wait ||= a.includes('w');
        all ||= a.includes('a');
      } else if (a.startsWith('-')) throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
      else if (vm !== undefined) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
      else vm = checkVmArg(a);
    }
    if (all === (vm !== undefined)) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    let res;
    try {
      res = await call('stop', { ...(vm !== undefined ? { vm } : {}), all, force, wait });
    } catch (e) {
      // The daemon's message already says "stopping vm NAME: ..." where it can.
      throw e;
    }
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    for (const s of res.stopped) {
      const what =
        s.outcome === 'forced' ? `forced to terminate vm ${s.id}` : s.outcome === 'terminated' ? `terminated vm ${s.id}` : `requested to shutdown vm ${s.id}`;
      process.stderr.write(`vmsup: stopping vm ${terminalSafe(s.name)}: ${what}${s.reason ? terminalSafe(` (${s.reason})`) : ''}\n`);
    }
    return { exitCode: EXIT_OK };
  },
};
