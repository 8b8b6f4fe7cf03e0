// vmsup send [--live] id|name (vmctl's send): the VM's machine state to stdout,
// then the VM is stopped. `vmsup send a | vmsup receive b`, or through ssh to
// another host. --live keeps the guest running during a pre-copy of its RAM
// and pauses it only for the last dirty pages and the devices.
import { VmsupError } from '../daemon/protocol/errors.js';
import { formatBytes } from '../daemon/migrate-stream.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { Client, say } from './client.js';
import { Progress } from './progress.js';

const USAGE = 'send [--live] id | name';

export const sendCommand: CommandDefinition = {
  names: ['send'],
  usage: USAGE,
  help: 'Write a VM\'s state to stdout (for vmsup receive), then stop the VM; --live: pre-copy while it runs.',
  async handler(args, ctx) {
    const live = args.includes('--live');
    const rest = args.filter((a) => a !== '--live');
    const bad = rest.find((a) => a.startsWith('-'));
    if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${USAGE}`);
    if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    if (ctx.stdoutIsTTY) throw new VmsupError('USAGE', 'send: not writing machine state to a terminal', 'pipe it: vmsup send NAME | vmsup receive NAME');
    const progress = new Progress(`send ${rest[0]}`);
    const c = await Client.connect();
    let outErr: Error | undefined;
    const onOutErr = (e: Error) => {
      // The reader went away (EPIPE): leave, so the daemon stops sending and the VM goes on.
      outErr = e;
      c.close();
    };
    process.stdout.on('error', onOutErr);
    try {
      const res = await c.requestData('send', live ? { vm: rest[0], live } : { vm: rest[0] }, (data, bytes, pass) => {
        progress.update(bytes, pass);
        if (!process.stdout.write(data)) {
          c.readPause(true);
          process.stdout.once('drain', () => c.readPause(false));
        }
      });
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      progress.done();
      const passes = res.passes ? `, ${res.passes} passes` : '';
      say(`sent vm ${res.vm.id} (${res.vm.name}): ${formatBytes(res.bytes)} in ${res.ms} ms${passes}, downtime ${res.downtimeMs} ms`);
      return { exitCode: EXIT_OK };
    } catch (e) {
      progress.done();
      if (outErr) throw new VmsupError('SEND', `send: cannot write the state: ${outErr.message}`);
      throw e;
    } finally {
      process.stdout.off('error', onOutErr);
      c.close();
    }
  },
};
