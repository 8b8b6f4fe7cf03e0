// vmsup reload: loads again every vm.conf(5) file that defined a VM this user
// may see (as `vmsup load` does: each file all or nothing), then has vmsupd
// re-read vmsupd.conf and forget its stopped transient VMs (root, or a per-user
// daemon's own user). The files are read here, as the caller: SIGHUP to vmsupd
// re-reads vmsupd.conf only.
import { VmsupError } from '../daemon/protocol/errors.js';
import { VmConfError } from '../daemon/vmconf.js';
import { EXIT_FAIL, EXIT_OK, type CommandDefinition } from './command.js';
import { call, say, takeJson } from './client.js';
import { terminalSafe } from './format.js';
import { loadConf, type LoadOutcome } from './load.js';

const USAGE = 'reload [--json]';

export const reloadCommand: CommandDefinition = {
  names: ['reload'],
  usage: USAGE,
  help: "Load again the vm.conf files of the caller's VMs, then reload vmsupd's settings and remove stopped transient VMs.",
  async handler(args) {
    const { json, rest } = takeJson(args);
    if (rest.length) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const sources = [...new Set((await call('status', {})).vms.map((v) => v.source).filter((s): s is string => s !== null))];
    // vmsupd.conf first, then the vm.conf files: their global settings win, as at load.
    let res: { removed: number } | undefined;
    try {
      res = await call('reload', {});
    } catch (e) {
      // A user who may not reload the daemon still reloads their own files.
      if (!(e instanceof VmsupError && e.code === 'ERR_VMSUP_PERMISSION' && sources.length > 0)) throw e;
    }
    const loaded: Record<string, LoadOutcome> = {};
    let failed = false;
    for (const file of sources) {
      try {
        loaded[file] = await loadConf(file, false);
      } catch (e) {
        if (!(e instanceof VmConfError)) throw e;
        failed = true;
        for (const m of e.errors) process.stderr.write(`vmsup: ${terminalSafe(m)}\n`);
        say(`${terminalSafe(file)}: not reloaded: its VMs are unchanged`);
      }
    }
    if (json) return { output: JSON.stringify({ ...(res ?? {}), files: loaded }), exitCode: failed ? EXIT_FAIL : EXIT_OK };
    for (const [file, r] of Object.entries(loaded))
      say(`${terminalSafe(file)}: reloaded: ${r.defined.length} defined, ${r.redefined.length} redefined, ${r.undefined.length} undefined, ${r.started.length} started`);
    return { exitCode: failed ? EXIT_FAIL : EXIT_OK };
  },
};
