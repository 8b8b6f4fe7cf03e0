// vmsup create: makes a disk image, as vmctl(8)'s create does.
//   vmsup create [-b base | -i disk] [-s size] [raw:|qcow2:]disk
// -b makes a qcow2 overlay on a base (size defaults to the base's); -i copies an
// existing raw or qcow2 image into a new one (sparse: all-zero 64 KiB runs are
// not written), with a progress bar when stderr is a terminal; -s takes
// vmctl's size syntax. Messages follow vmctl's; like vmctl's warnx(), the
// "imagefile created" line goes to stderr.
import fs from 'node:fs';
import path from 'node:path';
import { blockAddon, type DiskFormatName } from '../native/index.js';
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_FAIL, EXIT_OK, type CommandDefinition } from './command.js';
import { parseSize } from './size.js';

const USAGE = 'create [-b base | -i disk] [-s size] [raw:|qcow2:]disk';
const MIB = 1024 * 1024;

/**
 * vmctl's parse_disktype: an explicit `raw:` or `qcow2:` prefix; else the
 * file's signature when it exists; else the extension (.raw, .qcow2); else raw.
 */
export function parseDiskType(spec: string): { format: DiskFormatName; path: string } {
  const m = /^(raw|qcow2):(.*)$/.exec(spec);
  if (m) return { format: m[1] as DiskFormatName, path: m[2] };
  try {
    const fd = fs.openSync(spec, 'r');
    try {
      const b = Buffer.alloc(4);
      if (fs.readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) {
        return { format: 'qcow2', path: spec };
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not there yet (the usual case for create): fall through to the extension */
  }
  const ext = path.extname(spec).slice(1).toLowerCase();
  if (ext === 'qcow2') return { format: 'qcow2', path: spec };
  return { format: 'raw', path: spec };
}

interface CreateArgs {
  base?: string;
  input?: string;
  size: number;
  disk: string;
}

export function parseCreateArgs(args: string[]): CreateArgs {
  const out: Partial<CreateArgs> & { size: number } = { size: 0 };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    const m = /^-([bis])(.*)$/.exec(a);
    if (!m) {
      if (a.startsWith('-') && a !== '-') throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
      rest.push(a);
      continue;
    }
    let v = m[2];
    if (v === '') {
      if (i + 1 >= args.length) throw new VmsupError('USAGE', `option -${m[1]} requires an argument\nusage: vmsup ${USAGE}`);
      v = args[++i];
    }
    if (m[1] === 'b') out.base = v;
    else if (m[1] === 'i') out.input = v;
    else out.size = parseSize(v, 'disk');
  }
  if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
  out.disk = rest[0];
  return out as CreateArgs;
}

function progressBar(label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
    if (pct === last) return;
    last = pct;
    const width = 40;
    const fill = Math.round((pct * width) / 100);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${String(pct).padStart(3)}%`);
    if (done >= total) process.stderr.write('\n');
  };
}

export const createCommand: CommandDefinition = {
  names: ['create'],
  options: { short: 'b:i:s:' },
  usage: USAGE,
  help: 'Create a disk image: empty, as a qcow2 overlay on a base (-b), or as a copy of an image (-i).',
  async handler(args, ctx) {
    const a = parseCreateArgs(args);
    const { format, path: disk } = parseDiskType(a.disk);
    if (disk === '') throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    const block = blockAddon();

    if (a.input !== undefined) {
      if (a.base !== undefined) throw new VmsupError('USAGE', 'conflicting -b and -i arguments');
      const src = parseDiskType(a.input);
      let info;
      try {
        info = block.imageInfo(src.path, src.format);
      } catch (e) {
        throw new VmsupError('CREATE', `failed to open source image file: ${(e as Error).message}`);
      }
      let size = a.size || info.virtualSize;
      if (size < info.virtualSize) throw new VmsupError('CREATE', 'size cannot be smaller than input disk size');
      const aligned = Math.ceil(size / MIB) * MIB; // vmctl aligns the copy to megabytes
      const tty = ctx.stdoutIsTTY && Boolean(process.stderr.isTTY);
      try {
        block.convertImage(src.path, src.format, disk, format, aligned, tty ? progressBar(disk) : undefined);
      } catch (e) {
        throw new VmsupError('CREATE', (e as Error).message);
      }
      if (aligned !== size) process.stderr.write(`vmsup: destination size rounded to ${aligned / MIB} megabytes\n`);
      size = aligned;
      process.stderr.write(`vmsup: ${format} imagefile created\n`);
      return { exitCode: EXIT_OK };
    }

    if (a.base !== undefined && format !== 'qcow2') {
      throw new VmsupError('CREATE', 'base images require qcow2 disk format');
    }
    if (a.size === 0 && a.base === undefined) {
      process.stderr.write(`vmsup: could not create ${disk}: missing size argument\nusage: vmsup ${USAGE}\n`);
      return { exitCode: EXIT_FAIL };
    }
    let backing: string | undefined;
    let backingFormat: DiskFormatName | undefined;
    if (a.base !== undefined) {
      // The base name is stored as given and, when relative, is resolved
      // relative to the new image's directory (as QEMU does). It must exist and
      // be readable by the user running this command.
      const b = parseDiskTypeRelative(a.base, disk);
      backing = b.path;
      backingFormat = b.format;
      const resolved = path.resolve(path.dirname(disk), b.path);
      try {
        fs.accessSync(resolved, fs.constants.R_OK);
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not readable';
        throw new VmsupError('CREATE', `could not create ${disk}: base image ${resolved}: ${why}`);
      }
    }
    try {
      block.createImage(disk, format, a.size, { backing, backingFormat });
    } catch (e) {
      throw new VmsupError('CREATE', `could not create ${disk}: ${(e as Error).message}`);
    }
    process.stderr.write(`vmsup: ${format} imagefile created\n`);
    return { exitCode: EXIT_OK };
  },
};

/** parseDiskType for a base name, whose signature is looked up relative to the overlay. */
function parseDiskTypeRelative(spec: string, overlay: string): { format: DiskFormatName; path: string } {
  const m = /^(raw|qcow2):(.*)$/.exec(spec);
  if (m) return { format: m[1] as DiskFormatName, path: m[2] };
  const t = parseDiskType(path.resolve(path.dirname(overlay), spec));
  return { format: t.format, path: spec };
}
