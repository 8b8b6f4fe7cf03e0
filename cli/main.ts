// vmsup: the command-line client. Commands match by unique prefix, as vmctl's do.
import { commands } from './commands.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type CommandDefinition } from './command.js';
import { asksForHelp, expandArgs } from './getopt.js';
import { setVerbose } from './client.js';
import { asVmsupError, VmsupError } from '../daemon/protocol/errors.js';
import { terminalSafe } from './format.js';

/** vmctl's one-line usage, for a command line it cannot make sense of. */
export const SHORT_USAGE = 'usage: vmsup [-hv] command [arg ...]';

export function usage(): string {
  const lines = commands.map((c) => `\tvmsup ${c.usage}`);
  return `usage:\tvmsup [-hv] command [arg ...]\n${lines.join('\n')}\n` + '\t(vmsup help command: that command\'s usage; -v: more verbose messages)';
}

/** One command's usage and what it does (`vmsup help start`, `vmsup start -h`). */
export function commandUsage(cmd: CommandDefinition): string {
  return `usage: vmsup ${cmd.usage}\n${cmd.help}`;
}

/** Finds a command by exact name or unique prefix (vmctl's parse_cmd). */
export function lookup(name: string): CommandDefinition | VmsupError {
  const exact = commands.find((c) => c.names.includes(name));
  if (exact) return exact;
  const matches = commands.filter((c) => c.names.some((n) => n.startsWith(name)));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) return new VmsupError('USAGE', `ambiguous argument: ${name}`);
  return new VmsupError('USAGE', `unknown command: ${name}`);
}

export async function main(argv: string[]): Promise<number> {
  // Global options before the command, as vmctl's: -v (repeatable), -h.
  let i = 0;
  let verbose = 0;
  for (; i < argv.length && /^-[hv]+$/.test(argv[i]); i++) {
    if (argv[i].includes('h')) {
      process.stderr.write(usage() + '\n');
      return EXIT_OK;
    }
    verbose += argv[i].length - 1;
  }
  setVerbose(verbose);
  const [name, ...rest] = argv.slice(i);
  if (!name) {
    process.stderr.write(usage() + '\n');
    return EXIT_USAGE;
  }
  if (name === 'help' || name === '--help') {
    if (rest.length === 0) {
      process.stderr.write(usage() + '\n');
      return EXIT_OK;
    }
    const cmd = lookup(rest[0]);
    if (cmd instanceof VmsupError) {
      process.stderr.write(`vmsup: ${cmd.message}\n${SHORT_USAGE}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(commandUsage(cmd) + '\n');
    return EXIT_OK;
  }
  if (name.startsWith('-')) {
    process.stderr.write(`vmsup: unknown option: ${name}\n${SHORT_USAGE}\n`);
    return EXIT_USAGE;
  }
  const cmd = lookup(name);
  if (cmd instanceof VmsupError) {
    process.stderr.write(`vmsup: ${terminalSafe(cmd.message)}\n${SHORT_USAGE}\n`);
    return EXIT_USAGE;
  }
  const args = cmd.options ? expandArgs(rest, cmd.options) : rest;
  if (asksForHelp(args, cmd.options)) {
    process.stderr.write(commandUsage(cmd) + '\n');
    return EXIT_OK;
  }
  try {
    const res = await cmd.handler(args, {
      stdinIsTTY: Boolean(process.stdin.isTTY),
      stdoutIsTTY: Boolean(process.stdout.isTTY),
    });
    if (res.output !== undefined && res.output !== '') {
      // Names, reasons and paths in it may come from another user: escaped (JSON stays valid).
      const out = terminalSafe(res.output);
      process.stdout.write(out.endsWith('\n') ? out : out + '\n');
    }
    return res.exitCode;
  } catch (err) {
    const e = asVmsupError(err);
    process.stderr.write(`vmsup: ${terminalSafe(e.message)}\n`);
    if (e.hint) process.stderr.write(`vmsup: ${terminalSafe(e.hint)}\n`);
    return e.code === 'ERR_VMSUP_USAGE' ? EXIT_USAGE : EXIT_FAIL;
  }
}
