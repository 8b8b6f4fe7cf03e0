// The command table. Add a command by adding its file here.
import type { CommandDefinition } from './command.js';
import { runCommand } from './run.js';
import { createCommand } from './create.js';

export const commands: CommandDefinition[] = [runCommand];
commands.push(createCommand);
