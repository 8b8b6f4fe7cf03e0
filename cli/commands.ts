// The command table. Add a command by adding its file here.
import type { CommandDefinition } from './command.js';
import { runCommand } from './run.js';
import { consoleCommand } from './console.js';
import { createCommand } from './create.js';
import { defineCommand } from './define.js';
import { disableCommand } from './disable.js';
import { enableCommand } from './enable.js';
import { eventsCommand } from './events.js';
import { loadCommand } from './load.js';
import { logCommand } from './log.js';
import { pauseCommand } from './pause.js';
import { reloadCommand } from './reload.js';
import { resetCommand } from './reset.js';
import { switchCommand } from './switch.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { stopCommand } from './stop.js';
import { undefineCommand } from './undefine.js';
import { unpauseCommand } from './unpause.js';
import { waitCommand } from './wait.js';
import { topCommand } from './top.js';
import { webCommand } from './web.js';
import { saveCommand } from './save.js';
import { restoreCommand } from './restore.js';
import { sendCommand } from './send.js';
import { receiveCommand } from './receive.js';

export const commands: CommandDefinition[] = [
  runCommand,
  // the daemon's commands (vmctl's set)
  consoleCommand,
  createCommand,
  defineCommand,
  disableCommand,
  enableCommand,
  eventsCommand,
  loadCommand,
  logCommand,
  pauseCommand,
  reloadCommand,
  resetCommand,
  switchCommand,
  statusCommand,
  startCommand,
  stopCommand,
  undefineCommand,
  unpauseCommand,
  waitCommand,
  // metrics and the web interface
  topCommand,
  webCommand,
  // save/restore (issue 10)
  saveCommand,
  restoreCommand,
  // send/receive and live migration (issue 10)
  sendCommand,
  receiveCommand,
];
