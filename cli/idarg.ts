// Argument parsing for the commands that take one VM: [--json] id|name.
import { VmsupError } from '../daemon/protocol/errors.js';
import { takeJson } from './client.js';

export function oneVm(args: string[], usage: string): { vm: string; json: boolean } {
  const { json, rest } = takeJson(args);
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${usage}`);
  if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${usage}`);
  return { vm: rest[0], json };
}
