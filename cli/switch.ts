// vmsup switch create NAME [--uplink tap:IF | bridge:BR] [--locked-lladdr] [--group GROUP] | delete NAME | status [--json]:
// vmd's `switch` blocks as commands; the switches persist in vmsupd's database.
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { call, say, takeJson } from './client.js';

const USAGE = 'switch create [--uplink tap:ifname | bridge:brname] [--locked-lladdr] [--group group] name | switch delete name | switch status [--json]';

export const switchCommand: CommandDefinition = {
  names: ['switch'],
  options: { short: '', longWithValue: ['group', 'uplink'] },
  usage: USAGE,
  help: 'Create, delete or show the vmsup switches VMs attach to with -n.',
  async handler(args) {
    const usage = (msg: string): never => {
      throw new VmsupError('USAGE', `${msg}\nusage: vmsup ${USAGE}`);
    };
    const [sub, ...rest] = args;
    switch (sub) {
      case 'create': {
        let lockedLladdr = false;
        let group: string | undefined;
        let uplink: string | undefined;
        let name: string | undefined;
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--locked-lladdr') lockedLladdr = true;
          else if (a === '--group') {
            group = rest[++i];
            if (group === undefined) usage('option --group requires an argument');
          } else if (a === '--uplink') {
            uplink = rest[++i];
            if (uplink === undefined) usage('option --uplink requires an argument');
          } else if (a.startsWith('--uplink=')) uplink = a.slice('--uplink='.length);
          else if (a.startsWith('-')) usage(`unknown option: ${a}`);
          else if (name !== undefined) usage(`unexpected argument: ${a}`);
          else name = a;
        }
        if (name === undefined) usage('missing switch name');
        const res = await call('switch-create', { name: name!, ...(lockedLladdr ? { lockedLladdr } : {}), ...(group !== undefined ? { group } : {}), ...(uplink !== undefined ? { uplink } : {}) });
        say(`created switch ${res.switch.name}${res.switch.uplinkTap ? ` (uplink ${res.switch.uplink} on tap ${res.switch.uplinkTap})` : ''}`);
        return { exitCode: EXIT_OK };
      }
      case 'delete': {
        if (rest.length !== 1 || rest[0].startsWith('-')) usage('switch delete takes one name');
        await call('switch-delete', { name: rest[0] });
        say(`deleted switch ${rest[0]}`);
        return { exitCode: EXIT_OK };
      }
      case 'status': {
        const { json, rest: more } = takeJson(rest);
        if (more.length) usage(`unexpected argument: ${more[0]}`);
        const res = await call('switch-status', {});
        if (json) return { output: JSON.stringify(res.switches), exitCode: EXIT_OK };
        const rows = [['NAME', 'UPLINK', 'GROUP', 'LOCKED', 'PORTS', 'RX', 'TX', 'DROPS', 'VMS']];
        // An uplink whose tap could not be made again at start shows with "(down)".
        const up = (s: (typeof res.switches)[number]) => (s.uplink === null ? '-' : s.uplinkTap ? `${s.uplink}(${s.uplinkTap})` : `${s.uplink}(down)`);
        for (const s of res.switches)
          rows.push([s.name, up(s), s.group ?? '-', s.lockedLladdr ? 'yes' : 'no', String(s.ports), String(s.rxFrames), String(s.txFrames), String(s.drops + s.lockedDrops), s.vms.join(',') || '-']);
        const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
        return { output: rows.map((r) => r.map((x, c) => x.padEnd(w[c])).join(' ').trimEnd()).join('\n'), exitCode: EXIT_OK };
      }
      default:
        return usage(sub === undefined ? 'missing subcommand' : `unknown subcommand: ${sub}`);
    }
  },
};
