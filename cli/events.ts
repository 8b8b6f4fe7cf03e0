// vmsup events [-n count] [id|name]: the lifecycle event log.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { checkVmArg } from './idarg.js';
import { call, Client } from './client.js';
import type { EventRecord } from '../daemon/protocol/messages.js';
import { terminalSafe } from './format.js';

const USAGE = 'events [-f] [-n count] [--json] [id | name]';

export const eventsCommand: CommandDefinition = {
  names: ['events'],
  options: { short: 'fn:' },
  usage: USAGE,
  help: 'Show the event log: every lifecycle transition with its time and reason; -f follows it.',
  async handler(args) {
    let json = false;
    let follow = false;
    let limit: number | undefined;
    let vm: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--json') json = true;
      else if (a === '-f') follow = true;
      else if (a === '-n') {
        const v = args[++i];
        if (v === undefined) throw new VmsupError('USAGE', `option -n requires an argument\nusage: vmsup ${USAGE}`);
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10000) throw new VmsupError('USAGE', `invalid count: ${v}`);
        limit = Number(v);
      } else if (a.startsWith('-')) throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
      else if (vm !== undefined) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
      else vm = checkVmArg(a);
    }
    const line = (e: EventRecord) => `${e.time} ${e.vm} ${e.from ?? '-'} -> ${e.to}: ${e.reason}`;
    if (follow) {
      // One line (or one JSON object) per event, as they happen, until interrupted.
      const c = await Client.connect();
      await c.requestStream('events', { ...(vm !== undefined ? { vm } : {}), ...(limit ? { limit } : {}), follow: true }, (e) =>
        process.stdout.write(terminalSafe(json ? JSON.stringify(e) : line(e)) + '\n'),
      );
      c.close();
      return { exitCode: EXIT_OK };
    }
    const res = await call('events', { ...(vm !== undefined ? { vm } : {}), ...(limit ? { limit } : {}) });
    if (json) return { output: JSON.stringify(res.events), exitCode: EXIT_OK };
    const lines = res.events.map(line);
    return { output: lines.join('\n'), exitCode: EXIT_OK };
  },
};
