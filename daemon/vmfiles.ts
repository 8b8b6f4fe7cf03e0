// Every file a VM uses — kernel, initrd, bios, each disk and the whole qcow2
// backing chain — is opened here exactly once, with the credentials of the VM's
// owner (never root's, never the requester's), and handed to the VM's worker as
// descriptors. The worker never resolves a path, so nothing can be swapped in
// between a check and the open (issue 8: F1, F2, F3, F11). The opening itself is
// native (host/vmfiles.cc): a short-lived thread that takes the owner's fs
// credentials, openat2 without magic links, O_NONBLOCK, regular files only
// (block devices for root's VMs only).
//
// Disk formats (issue 13 item 1): a disk given without `raw:`/`qcow2:` is
// detected once, by the qcow2 signature "QFI\xfb", when the VM is defined (or a
// transient VM started), and the format is pinned in the definition; later
// starts never look again. `raw:` on a file that carries the qcow2 signature is
// refused unless forced (`raw!:path`), since the guest would overwrite the header.
import { addon, type MachineOptions, type OpenVmFilesResult } from '../native/index.js';
import type { VmDefinition } from '../db/repository.js';
import { VmsupError, asVmsupError } from './protocol/errors.js';
import type { DiskInput, DiskSpec } from './protocol/messages.js';
import { ownerCredentials } from './access.js';

type Files = Pick<VmDefinition, 'kernel' | 'initrd' | 'bios' | 'disks' | 'ownerUid' | 'ownerGid'>;

/** A path from a client: the daemon's working directory means nothing to a
 * client, so a relative path is refused (the CLI sends absolute ones). */
export function absolutePath(p: string, what: string): string {
  if (!p.startsWith('/')) throw new VmsupError('BAD_PATH', `${what} path must be absolute: ${p}`, 'the vmsup client resolves relative paths; update it');
  return p;
}

/** Descriptors a running VM holds in the daemon; closed when it stops. */
export class VmFiles {
  private closed = false;
  constructor(
    readonly kernelFd: number | undefined,
    readonly initrdFd: number | undefined,
    readonly biosFd: number | undefined,
    readonly disks: OpenVmFilesResult['disks'],
  ) {}

  /** Every descriptor held. */
  fds(): number[] {
    if (this.closed) return [];
    const out: number[] = [];
    for (const fd of [this.kernelFd, this.initrdFd, this.biosFd]) if (fd !== undefined) out.push(fd);
    for (const d of this.disks) for (const f of d.files) out.push(f.fd);
    return out;
  }

  close(): void {
    const a = addon();
    for (const fd of this.fds()) a.closeFd(fd);
    this.closed = true;
  }

  /** The worker's options: descriptors, with paths only to name the files in messages. */
  machineOptions(def: Files): Pick<MachineOptions, 'kernel' | 'initrd' | 'bios' | 'kernelFd' | 'initrdFd' | 'biosFd' | 'disks'> {
    return {
      kernel: def.kernel ?? undefined,
      initrd: def.initrd ?? undefined,
      bios: def.bios ?? undefined,
      kernelFd: this.kernelFd,
      initrdFd: this.initrdFd,
      biosFd: this.biosFd,
      disks: def.disks.map((d, i) => ({ path: d.path, format: d.format, readOnly: Boolean(d.readOnly), files: this.disks[i].files })),
    };
  }
}

/** Runs the native opener as the VM's owner. */
async function openAsOwner(def: Files, disks: { path: string; format: 'raw' | 'qcow2' | 'probe'; readOnly: boolean }[], chain: boolean) {
  const cred = ownerCredentials(def.ownerUid, def.ownerGid);
  const files: { path: string; what: string }[] = [];
  if (def.kernel) files.push({ path: absolutePath(def.kernel, 'kernel'), what: 'kernel' });
  if (def.initrd) files.push({ path: absolutePath(def.initrd, 'initrd'), what: 'initrd' });
  if (def.bios) files.push({ path: absolutePath(def.bios, 'bios'), what: 'bios' });
  for (const d of disks) absolutePath(d.path, 'disk');
  const asRoot = process.geteuid?.() === 0;
  const opening = addon().openVmFiles({
    ...cred,
    switchCreds: asRoot && cred.uid !== 0,
    allowDevices: cred.uid === 0,
    files,
    disks: disks.map((d) => ({ ...d, chain })),
  });
  // A file on a hung network or FUSE mount must not hold the request for ever:
  // give up after OPEN_TIMEOUT_MS, and close whatever the opener returns later.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new VmsupError('TIMEOUT', `opening the vm's files took longer than ${OPEN_TIMEOUT_MS / 1000} s`)),
      OPEN_TIMEOUT_MS,
    );
  });
  try {
    const res = await Promise.race([opening, timeout]);
    return { res, kinds: files.map((f) => f.what) };
  } catch (e) {
    opening.then(closeAll, () => undefined);
    const err = asVmsupError(e);
    throw new VmsupError(err.code, err.message);
  } finally {
    clearTimeout(timer);
  }
}

/** How long opening a VM's files may take (a hung mount). */
const OPEN_TIMEOUT_MS = 60_000;

function closeAll(res: OpenVmFilesResult): void {
  const a = addon();
  for (const fd of res.files) a.closeFd(fd);
  for (const d of res.disks) for (const f of d.files) a.closeFd(f.fd);
}

/** How each disk's format was given: pinned (a stored definition or a template), or by the client. */
export interface DiskFormatRequest {
  given: 'raw' | 'qcow2' | undefined;
  force: boolean;
  pinned: boolean;
}

export function formatRequests(inputs: DiskInput[] | undefined, pinned: DiskSpec[]): DiskFormatRequest[] {
  if (inputs) return inputs.map((d) => ({ given: d.format, force: Boolean(d.force), pinned: false }));
  return pinned.map((d) => ({ given: d.format, force: true, pinned: true }));
}

function pin(def: Files, reqs: DiskFormatRequest[], res: OpenVmFilesResult): void {
  def.disks.forEach((d, i) => {
    const r = reqs[i];
    const got = res.disks[i];
    if (r && !r.pinned && r.given === 'raw' && got.signature === 'qcow2' && !r.force)
      throw new VmsupError(
        'FORMAT',
        `disk ${d.path} is a qcow2 image: refusing to attach it as raw (the guest would overwrite its header)`,
        `use qcow2:${d.path}, or raw!:${d.path} to attach the file as raw anyway`,
      );
    d.format = got.format;
  });
}

/**
 * At define: every file must open for the owner (writable disks writable), be
 * a regular file, and each disk's format is detected (no prefix) or checked
 * (raw:) and pinned in `def`. Nothing stays open.
 */
export async function checkDefinitionFiles(def: Files, reqs: DiskFormatRequest[]): Promise<void> {
  const seen = new Set<string>();
  for (const d of def.disks) {
    if (seen.has(d.path)) throw new VmsupError('DUP_DISK', `disk ${d.path} given twice`);
    seen.add(d.path);
  }
  const { res } = await openAsOwner(
    def,
    def.disks.map((d, i) => ({ path: d.path, format: reqs[i]?.given ?? 'probe', readOnly: Boolean(d.readOnly) })),
    false,
  );
  try {
    pin(def, reqs, res);
  } finally {
    closeAll(res);
  }
}

/**
 * At start: opens everything the VM will use, the whole backing chains
 * included (with their OFD locks), as the owner. A transient VM's disks are
 * detected and pinned in `def` here as at define. The caller owns the result
 * and must close() it.
 */
export async function openForStart(def: Files, reqs: DiskFormatRequest[]): Promise<VmFiles> {
  const seen = new Set<string>();
  for (const d of def.disks) {
    if (seen.has(d.path)) throw new VmsupError('DUP_DISK', `disk ${d.path} given twice`);
    seen.add(d.path);
  }
  const { res, kinds } = await openAsOwner(
    def,
    def.disks.map((d, i) => ({ path: d.path, format: reqs[i]?.given ?? 'probe', readOnly: Boolean(d.readOnly) })),
    true,
  );
  try {
    pin(def, reqs, res);
  } catch (e) {
    closeAll(res);
    throw e;
  }
  const fd = (what: string) => {
    const i = kinds.indexOf(what);
    return i < 0 ? undefined : res.files[i];
  };
  return new VmFiles(fd('kernel'), fd('initrd'), fd('bios'), res.disks);
}

/**
 * Opens one regular file read-only with the credentials of uid (its groups) as
 * a VM's files are opened: `vmsup restore` reads a client's snapshot so.
 */
export async function openFileAs(uid: number, gid: number, file: string, what: string): Promise<number> {
  try {
    const { res } = await openAsOwner({ kernel: null, initrd: null, bios: absolutePath(file, what), disks: [], ownerUid: uid, ownerGid: gid }, [], false);
    return res.files[0];
  } catch (e) {
    const err = asVmsupError(e);
    throw new VmsupError(err.code, err.message.replace(/\bbios\b/, what), err.hint);
  }
}
