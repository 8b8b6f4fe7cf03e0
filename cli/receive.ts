// vmsup receive [-f] name (vmctl's receive): reads a machine state from stdin
// (what vmsup send wrote), defines the VM when it is new, and resumes it
// running. -f accepts a disk modified since the send (same size).
import { VmsupError } from '../daemon/protocol/errors.js';
import { formatBytes, StreamTracker } from '../daemon/migrate-stream.js';
import { RECEIVE_CHUNK_BYTES } from '../daemon/protocol/messages.js';
import { EXIT_OK, type CommandDefinition } from './command.js';
import { Client, say, takeJson } from './client.js';
import { Progress } from './progress.js';

const USAGE = 'receive [--json] [-f] name';
/** receive-data requests in flight: the daemon answers each once its bytes are in the VM's pipe. */
const WINDOW = 4;

export const receiveCommand: CommandDefinition = {
  names: ['receive'],
  usage: USAGE,
  help: 'Read a VM\'s state (from vmsup send) on stdin, define the VM if it is new, and resume it ' +
    '(-f: even when a disk was modified since the send).',
  async handler(args, ctx) {
    const { json, rest: all } = takeJson(args);
    const force = all.includes('-f');
    const rest = all.filter((a) => a !== '-f');
    const bad = rest.find((a) => a.startsWith('-'));
    if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${USAGE}`);
    if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    if (ctx.stdinIsTTY) throw new VmsupError('USAGE', 'receive: the machine state is read from stdin, not a terminal', 'vmsup send NAME | vmsup receive NAME');
    const progress = new Progress(`receive ${rest[0]}`);
    const tracker = new StreamTracker();
    const c = await Client.connect();
    try {
      const { id, answer } = c.begin('receive', force ? { name: rest[0], force } : { name: rest[0] });
      let settled = false;
      const done = answer.then(
        () => (settled = true),
        () => (settled = true),
      );
      const inflight = new Set<Promise<unknown>>();
      let refused = false;
      const put = (data: Buffer | undefined, end: boolean) => {
        const p: Promise<unknown> = c
          .request('receive-data', { stream: id, ...(data ? { data: data.toString('base64') } : {}), ...(end ? { end } : {}) })
          .catch(() => (refused = true)) // the answer to `receive` says why
          .finally(() => inflight.delete(p));
        inflight.add(p);
      };
      reading: for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        for (let off = 0; off < chunk.length; off += RECEIVE_CHUNK_BYTES) {
          while (inflight.size >= WINDOW && !settled && !refused) await Promise.race([...inflight, done]);
          if (settled || refused) break reading;
          const piece = chunk.subarray(off, off + RECEIVE_CHUNK_BYTES);
          try {
            tracker.push(piece);
          } catch {
            /* the daemon says what is wrong with it */
          }
          progress.update(tracker.bytes, tracker.pass);
          put(piece, false);
        }
      }
      if (!settled && !refused) put(undefined, true);
      const res = await answer;
      progress.done();
      if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
      const down =
        res.downtimeMs !== null ? `, downtime ${res.downtimeMs} ms (sender ${res.downtimeMs - res.resumeMs} ms + resume ${res.resumeMs} ms)` : '';
      const passes = res.passes ? `, ${res.passes} passes` : '';
      say(`received vm ${res.vm.id} (${res.vm.name}): ${formatBytes(res.bytes)} in ${res.ms} ms${passes}${down}, tty ${res.vm.tty}`);
      return { exitCode: EXIT_OK };
    } finally {
      progress.done();
      c.close();
      process.stdin.destroy();
    }
  },
};
