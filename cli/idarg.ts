// Argument parsing for the commands that take one VM: [--json] id|name.
import { VmsupError } from '../daemon/protocol/errors.js';
import { checkVmName, LIMITS } from '../daemon/protocol/messages.js';
import { takeJson } from './client.js';

/**
 * vmctl's parse_vmid: a VM argument is an id (digits) or a name, checked here
 * so that the user reads vmctl's words ("name too long"), not the protocol's.
 * `needName`: a new VM's name (define, start with options), which must also be
 * a valid name.
 */
export function checkVmArg(word: string, needName = false): string {
  if (word === '') throw new VmsupError('USAGE', 'invalid vm name: the name is empty');
  if (/^\d+$/.test(word)) {
    if (needName) throw new VmsupError('USAGE', 'invalid vm name', 'a name of digits only would read as an id');
    if (Number(word) > 0xffffffff) throw new VmsupError('USAGE', `invalid vm id: ${word}`);
    return word;
  }
  if (Buffer.byteLength(word) > LIMITS.nameMaxBytes) throw new VmsupError('USAGE', `name too long (at most ${LIMITS.nameMaxBytes} bytes)`);
  if (needName) {
    try {
      checkVmName(word);
    } catch (e) {
      const err = e as VmsupError;
      throw new VmsupError('USAGE', err.message, err.hint);
    }
  }
  return word;
}

export function oneVm(args: string[], usage: string): { vm: string; json: boolean } {
  const { json, rest } = takeJson(args);
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad) throw new VmsupError('USAGE', `unknown option: ${bad}\nusage: vmsup ${usage}`);
  if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${usage}`);
  return { vm: checkVmArg(rest[0]), json };
}
