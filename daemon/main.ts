// vmsupd [-d] [-v] [--state-dir DIR] [--socket PATH] [--group GROUP] [--http [ADDR:]PORT]
// -d stays in the foreground and logs to stderr (systemd's journal); without
// it vmsupd starts itself again in the background, logging to
// <state-dir>/vmsupd.log, and returns once the socket answers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asVmsupError, VmsupError } from './protocol/errors.js';
import { defaultDaemonSocket, defaultStateDir } from './paths.js';
import { Logger } from './log.js';
import { Supervisor } from './supervisor.js';
import { ControlServer } from './server.js';
import { cancelSends } from './migrate.js';
import { lookupGroup } from './access.js';
import { parseListen } from './settings.js';
import { WebServer } from './http/server.js';

export const USAGE = 'usage: vmsupd [-dv] [--state-dir dir] [--socket path] [--group group] [--http [addr:]port]';

interface DaemonArgs {
  foreground: boolean;
  verbose: boolean;
  stateDir: string;
  socket: string;
  group?: string;
  http?: string;
}

export function parseDaemonArgs(argv: string[]): DaemonArgs {
  const a: DaemonArgs = { foreground: false, verbose: false, stateDir: '', socket: '' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined || v === '') throw new VmsupError('USAGE', `option ${arg} requires an argument\n${USAGE}`);
      return v;
    };
    if (/^-[dv]+$/.test(arg)) {
      if (arg.includes('d')) a.foreground = true;
      if (arg.includes('v')) a.verbose = true;
    } else if (arg === '--state-dir') a.stateDir = val();
    else if (arg === '--socket') a.socket = val();
    else if (arg === '--group') a.group = val();
    else if (arg === '--http') {
      a.http = val();
      if (!parseListen(a.http)) throw new VmsupError('USAGE', `bad --http ${a.http}: want [addr:]port\n${USAGE}`);
    }
    else throw new VmsupError('USAGE', `unknown option: ${arg}\n${USAGE}`);
  }
  a.stateDir = path.resolve(a.stateDir || defaultStateDir());
  a.socket = path.resolve(a.socket || defaultDaemonSocket());
  return a;
}

async function background(args: DaemonArgs, argv: string[]): Promise<number> {
  fs.mkdirSync(args.stateDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(args.stateDir, 'vmsupd.log');
  const out = fs.openSync(logFile, 'a', 0o600);
  const self = fileURLToPath(new URL('../../bin/vmsupd', import.meta.url));
  const child = spawn(process.execPath, [self, '-d', ...argv], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if (fs.statSync(args.socket).isSocket()) return 0;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`vmsupd: did not start; see ${logFile}\n`);
  return 1;
}

/** Writes <state-dir>/vmsupd.pid, refusing when a live vmsupd already holds it. */
function claimPidFile(stateDir: string): void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'vmsupd.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      process.on('exit', () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* gone */
        }
      });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    let alive = false;
    try {
      alive = pid > 0 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('vmsupd');
    } catch {
      alive = false;
    }
    if (alive) throw new VmsupError('RUNNING', `vmsupd (pid ${pid}) already runs with state directory ${stateDir}`);
    fs.unlinkSync(file); // left over from a crash or a kill -9
  }
  throw new VmsupError('RUNNING', `cannot claim ${file}`);
}

export async function daemonMain(argv: string[]): Promise<number> {
  let args: DaemonArgs;
  try {
    args = parseDaemonArgs(argv);
  } catch (e) {
    process.stderr.write(`vmsupd: ${asVmsupError(e).message}\n`);
    return 2;
  }
  if (!args.foreground) return background(args, argv);

  const log = new Logger(args.verbose);
  // One daemon per state directory: it must stay the only writer of its database.
  try {
    claimPidFile(args.stateDir);
  } catch (e) {
    process.stderr.write(`vmsupd: ${asVmsupError(e).message}\n`);
    return 1;
  }
  // The last line of defence (F4): every actor step and timer handles its own
  // failures, but a rejection or exception that still escapes is logged and
  // the daemon carries on, rather than taking every VM down with it.
  process.on('unhandledRejection', (e) => log.warn(`internal error (unhandled rejection), carrying on: ${(e as Error)?.stack ?? String(e)}`));
  process.on('uncaughtException', (e) => log.warn(`internal error (uncaught exception), carrying on: ${e?.stack ?? String(e)}`));
  let sup: Supervisor;
  try {
    sup = Supervisor.open(args.stateDir, log);
  } catch (e) {
    // A refused database (0 bytes, not writable, too new) is a clear message, not a crash.
    const err = asVmsupError(e);
    process.stderr.write(`vmsupd: ${err.message}\n`);
    if (err.hint) process.stderr.write(`vmsupd: ${err.hint}\n`);
    return 1;
  }
  const server = new ControlServer(sup, log);
  const groupName = args.group ?? sup.settings.socketGroup;
  let gid = -1;
  if (groupName) {
    const g = lookupGroup(groupName);
    if (g === undefined) {
      log.warn(`socket group ${groupName} does not exist; the socket keeps the daemon's group`);
    } else gid = g;
  }
  // Signal handlers go in before the socket answers: a SIGTERM that comes as
  // soon as a client sees the socket must not meet Node's default (instant
  // death, no shutdown of the guests). Until `stop` exists it is remembered.
  let early: string | undefined;
  let onSignal: (sig: string) => void = (sig) => void (early ??= sig);
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await sup.reconcile();
  await server.listen({ socketPath: args.socket, socketGid: gid });
  // vm.conf's `socket owner` (vmsup load): the socket keeps its mode, 0660.
  sup.setSocketOwner = (uid, gid) => fs.chownSync(args.socket, uid, gid);
  log.info(`listening on ${args.socket}, state in ${args.stateDir}`);
  // The web interface: --http wins over the http setting; off when neither is given.
  let web: WebServer | undefined;
  const httpSpec = args.http ?? sup.settings.http;
  const listenOn = httpSpec ? parseListen(httpSpec) : undefined;
  if (listenOn) {
    web = new WebServer(sup, log);
    try {
      const a = await web.listen(listenOn.host, listenOn.port);
      log.info(`web interface on http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
    } catch (e) {
      log.warn(`web interface: cannot listen on ${httpSpec}: ${asVmsupError(e).message}`);
      web = undefined;
    }
  }

  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const stop = (sig: string) => {
    if (stopping) return;
    log.info(`${sig}: shutting down every guest`);
    // Last resort: whatever happens below, the process ends. The database
    // stays consistent (every write is a transaction) and the next start
    // reconciles VMs that were still recorded as running.
    setTimeout(() => {
      log.warn('shutdown did not finish in time; exiting');
      process.exit(1);
    }, (sup.settings.shutdownTimeout + 20) * 1000).unref();
    stopping = (async () => {
      // Sends in progress end first, with a clear error to their clients (their VMs are saved or stopped below).
      await cancelSends(
        sup.settings.onShutdown === 'save'
          ? 'vmsupd is shutting down: the send was cancelled; the vm will be resumed by the next vmsupd'
          : 'vmsupd is shutting down: the send was cancelled; the vm is shut down',
      );
      await server.close();
      await web?.close().catch(() => undefined);
      await sup.shutdown();
      try {
        fs.unlinkSync(args.socket);
      } catch {
        /* already gone */
      }
      log.info('stopped');
    })().finally(finished);
  };
  onSignal = stop;
  if (early) stop(early);
  process.on('SIGHUP', () => void sup.reload({ pid: 0, uid: 0, gid: 0, groups: new Set([0]) }).catch(() => undefined));

  void sup.autostart().catch((e) => log.warn(`autostart: ${asVmsupError(e).message}`));
  await done;
  return 0;
}
