// vmsup: the command-line client. Commands match by unique prefix, as vmctl's do.
import { commands } from './commands.js';
import { EXIT_FAIL, EXIT_USAGE, type CommandDefinition } from './command.js';
import { asVmsupError, VmsupError } from '../daemon/protocol/errors.js';
import { terminalSafe } from './format.js';

export function usage(): string {
  const lines = commands.map((c) => `\tvmsup ${c.usage}`);
  return `usage:\tvmsup [-h] command [arg ...]\n${lines.join('\n')}`;
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
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stderr.write(usage() + '\n');
    return name ? 0 : EXIT_USAGE;
  }
  const cmd = lookup(name);
  if (cmd instanceof VmsupError) {
    process.stderr.write(`vmsup: ${terminalSafe(cmd.message)}\n${usage()}\n`);
    return EXIT_USAGE;
  }
  try {
    const res = await cmd.handler(rest, {
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
