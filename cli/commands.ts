// The command table. Add a command by adding its file here.
import type { CommandDefinition } from './command.js';
import { runCommand } from './run.js';

export const commands: CommandDefinition[] = [runCommand];
