// One file per command (pnpm's CommandDefinition): each exports its names,
// usage, help and a handler that returns { output, exitCode } and never calls
// process.exit itself.
import type { OptionSpec } from './getopt.js';

export interface CommandResult {
  /** Printed to stdout (a trailing newline is added when missing). */
  output?: string;
  exitCode: number;
}

export interface CommandContext {
  /** Whether stdout/stdin are terminals (progress bars, raw console). */
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}

export interface CommandDefinition {
  /** The first name is the command; the rest are aliases (e.g. show/status). */
  names: string[];
  usage: string;
  help: string;
  /** Its short options in getopt(3) syntax, and the long ones that take a
   * value: main() accepts bundled and attached forms (`-fw`, `-m128M`). */
  options?: OptionSpec;
  handler(args: string[], ctx: CommandContext): Promise<CommandResult>;
}

/** vmctl's exit statuses: 0 success, 1 failure; vmsup adds 2 for usage errors and time-outs. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
