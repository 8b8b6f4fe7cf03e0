// vm.conf(5): vmd's configuration grammar, parsed into plain definitions.
//
// The parser is pure: files are read through the `read` callback the caller
// gives (the CLI reads them as the user who runs `vmsup load`, never the
// daemon as root), and nothing is applied here. Every error carries
// `file:line`, and a file with one error yields no configuration at all
// (vmd's rule: a configuration loads whole or not at all).
//
// Supported, as vm.conf(5) has them:
//   macros         name = value, expanded where a word starts with $name
//   include "file" (relative to the including file's directory)
//   globals        local prefix a.b.c.d/n; socket owner user[:group];
//                  staggered start parallel N delay S
//   switch NAME { enable | disable; group G; interface IF; locked lladdr; up | down }
//   vm NAME [instance PARENT] { allow instance { boot, cdrom, disk, instance,
//                  interface, memory, owner user[:group] }; boot PATH; boot device
//                  disk|cdrom|net; cdrom PATH; disk PATH [format raw|qcow2];
//                  enable | disable; interface [IF] [{ switch S; lladdr [locked] MAC;
//                  locked lladdr [MAC]; group G; up | down }]; interfaces N;
//                  local interface [IF] [{ … }]; memory SIZE; owner user[:group] }
//   and vmsup's own: initrd PATH; cmdline "…"; bios PATH; cpus N.
// Line continuation with a backslash and # comments, as the manual says.
import path from 'node:path';
import { scanScaled } from '../cli/size.js';
import { isLocalPrefix } from './nics.js';
import { INSTANCE_OPTIONS } from './protocol/messages.js';

/** What one file read may bring, and how deep includes go: a hostile file set stays small. */
export const VMCONF_LIMITS = {
  fileBytes: 1024 * 1024,
  includeDepth: 8,
  tokens: 200_000,
  macros: 1000,
  macroBytes: 4096,
  vms: 4096,
  switches: 256,
  disks: 4,
  interfaces: 4,
  errors: 50,
} as const;

export interface ConfInterface {
  name?: string;
  local: boolean;
  switch?: string;
  lladdr?: string;
  locked: boolean;
  group?: string;
  up?: boolean;
}

export interface ConfVm {
  name: string;
  file: string;
  line: number;
  /** `vm NAME instance PARENT`: made from PARENT, these settings over its own. */
  instanceOf?: string;
  enabled?: boolean;
  memory?: number;
  cpus?: number;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  bios?: string;
  bootDevice?: 'disk' | 'cdrom' | 'net';
  /** `jit yes | no`: the execution engine (no: the interpreter). */
  jit?: boolean;
  cdrom?: string;
  disks: { path: string; format?: 'raw' | 'qcow2' }[];
  interfaces: ConfInterface[];
  owner?: string;
  /** `allow instance { … }`: what an instance of this VM may change, and who may make one. */
  allowInstance?: { options: (typeof INSTANCE_OPTIONS)[number][]; owners: string[] };
}

export interface ConfSwitch {
  name: string;
  file: string;
  line: number;
  enabled: boolean;
  group?: string;
  interface?: string;
  lockedLladdr: boolean;
  up: boolean;
}

export interface VmConf {
  localPrefix?: string;
  socketOwner?: string;
  staggeredStart?: { parallel: number; delay: number };
  /** Where each global setting was given (file and line), for messages about it. */
  globalsAt: { localPrefix?: Where; socketOwner?: Where; staggeredStart?: Where };
  switches: ConfSwitch[];
  vms: ConfVm[];
}

export interface Where {
  file: string;
  line: number;
}

export class VmConfError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('\n'));
  }
}

/** Reads a file's text, or throws with a message that names why. */
export type ReadFile = (absPath: string) => string;

interface Token {
  kind: 'word' | 'string' | '{' | '}' | '=' | ',' | 'nl';
  text: string;
  file: string;
  line: number;
}

const RESERVED = new Set(
  'allow boot bios cdrom cmdline cpus delay device disable disk enable format group include initrd instance interface interfaces local lladdr locked memory owner parallel prefix socket staggered start switch up down vm'.split(
    ' ',
  ),
);

const ALLOW_OPTIONS: readonly string[] = INSTANCE_OPTIONS;

class Parser {
  private errors: string[] = [];
  private macros = new Map<string, string>();
  private tokenCount = 0;
  readonly conf: VmConf = { globalsAt: {}, switches: [], vms: [] };

  constructor(private readonly read: ReadFile) {}

  error(file: string, line: number, msg: string): void {
    if (this.errors.length < VMCONF_LIMITS.errors) this.errors.push(`${file}:${line}: ${msg}`);
  }

  finish(): VmConf {
    if (this.errors.length) throw new VmConfError(this.errors);
    return this.conf;
  }

  /** Splits one file into tokens; quoted strings keep their text, newlines end statements. */
  lex(text: string, file: string): Token[] {
    const out: Token[] = [];
    let line = 1;
    let i = 0;
    const push = (kind: Token['kind'], t: string, ln = line) => {
      if (++this.tokenCount > VMCONF_LIMITS.tokens) throw new VmConfError([`${file}:${ln}: too many words (limit ${VMCONF_LIMITS.tokens})`]);
      out.push({ kind, text: t, file, line: ln });
    };
    while (i < text.length) {
      const c = text[i];
      if (c === '\\' && text[i + 1] === '\n') {
        i += 2;
        line++;
        continue;
      }
      if (c === '\n') {
        push('nl', '\n');
        line++;
        i++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        i++;
        continue;
      }
      if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      if (c === '{' || c === '}' || c === '=' || c === ',') {
        push(c, c);
        i++;
        continue;
      }
      if (c === '"') {
        const start = line;
        let s = '';
        i++;
        for (;;) {
          if (i >= text.length) {
            this.error(file, start, 'unterminated quoted string');
            return out;
          }
          const d = text[i];
          if (d === '"') break;
          if (d === '\n') {
            this.error(file, start, 'unterminated quoted string');
            break;
          }
          if (d === '\\' && i + 1 < text.length) {
            const e = text[i + 1];
            if (e === '\n') line++;
            else s += e;
            i += 2;
            continue;
          }
          s += d;
          i++;
        }
        i++;
        push('string', s, start);
        continue;
      }
      let w = '';
      while (i < text.length && !/[\s{}=,#"]/.test(text[i])) {
        if (text[i] === '\\' && text[i + 1] === '\n') break;
        w += text[i++];
      }
      if (w === '') {
        this.error(file, line, `unexpected character '${c}'`);
        i++;
        continue;
      }
      push('word', w);
    }
    push('nl', '\n');
    return out;
  }

  /** Parses one file (and what it includes) into the configuration. */
  file(absPath: string, depth: number, seen: string[]): void {
    if (depth > VMCONF_LIMITS.includeDepth) {
      this.error(seen[seen.length - 1] ?? absPath, 0, `includes nested deeper than ${VMCONF_LIMITS.includeDepth}`);
      return;
    }
    if (seen.includes(absPath)) {
      this.error(absPath, 0, 'include loop');
      return;
    }
    let text: string;
    try {
      text = this.read(absPath);
    } catch (e) {
      this.error(seen[seen.length - 1] ?? absPath, 0, `cannot read ${absPath}: ${(e as Error).message}`);
      return;
    }
    if (Buffer.byteLength(text) > VMCONF_LIMITS.fileBytes) {
      this.error(absPath, 1, `file larger than ${VMCONF_LIMITS.fileBytes} bytes`);
      return;
    }
    if (text.includes('\0')) {
      this.error(absPath, 1, 'file contains a NUL byte');
      return;
    }
    new Statements(this, this.lex(text, absPath), absPath, depth, [...seen, absPath]).all();
  }

  defineMacro(t: Token, name: string, value: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(name)) return this.error(t.file, t.line, `invalid macro name: ${name}`);
    if (RESERVED.has(name)) return this.error(t.file, t.line, `macro name cannot be a reserved word: ${name}`);
    if (Buffer.byteLength(value) > VMCONF_LIMITS.macroBytes) return this.error(t.file, t.line, `macro ${name} is too long`);
    if (!this.macros.has(name) && this.macros.size >= VMCONF_LIMITS.macros) return this.error(t.file, t.line, 'too many macros');
    this.macros.set(name, value);
  }

  /** A word's value: an unquoted word that starts with `$name` has the macro's value in its place. */
  expand(t: Token): string | undefined {
    const m = t.kind === 'word' ? /^\$([A-Za-z0-9_]+)(.*)$/s.exec(t.text) : null;
    if (!m) return t.text;
    const v = this.macros.get(m[1]);
    if (v === undefined) {
      this.error(t.file, t.line, `macro '${m[1]}' not defined`);
      return undefined;
    }
    return v + m[2];
  }
}

/** The statements of one file: a cursor over its tokens. */
class Statements {
  private i = 0;

  constructor(
    private readonly p: Parser,
    private readonly toks: Token[],
    private readonly file: string,
    private readonly depth: number,
    private readonly seen: string[],
  ) {}

  private peek(): Token {
    return this.toks[Math.min(this.i, this.toks.length - 1)];
  }
  private next(): Token {
    return this.toks[Math.min(this.i++, this.toks.length - 1)];
  }
  private err(t: Token, msg: string): void {
    this.p.error(t.file, t.line, msg);
  }
  /** Skips to the end of the statement (after an error). */
  private skipLine(): void {
    let depth = 0;
    while (this.i < this.toks.length) {
      const t = this.next();
      if (t.kind === '{') depth++;
      else if (t.kind === '}') {
        if (depth === 0) {
          this.i--;
          return;
        }
        depth--;
      } else if (t.kind === 'nl' && depth === 0) return;
    }
  }
  private skipNewlines(): void {
    while (this.i < this.toks.length && this.peek().kind === 'nl') this.i++;
  }
  private atEnd(): boolean {
    return this.i >= this.toks.length;
  }
  private isWord(t: Token, w: string): boolean {
    return t.kind === 'word' && t.text === w;
  }
  /** An argument: a word or a quoted string, macros expanded. */
  private arg(what: string): string | undefined {
    const t = this.next();
    if (t.kind !== 'word' && t.kind !== 'string') {
      this.err(t, `missing ${what}`);
      this.i--;
      return undefined;
    }
    return this.p.expand(t);
  }
  /** The end of a statement: a newline, or a closing brace that the block reads. */
  private endOfStatement(): void {
    const t = this.peek();
    if (t.kind === 'nl' || t.kind === ',') {
      this.i++;
      return;
    }
    if (t.kind === '}') return;
    this.err(t, `syntax error: unexpected '${t.text}'`);
    this.skipLine();
  }

  all(): void {
    for (;;) {
      this.skipNewlines();
      if (this.atEnd()) return;
      const t = this.next();
      if (t.kind === '}' || t.kind === '{' || t.kind === '=' || t.kind === ',') {
        this.err(t, `syntax error: unexpected '${t.text}'`);
        continue;
      }
      if (t.kind === 'word' && this.peek().kind === '=') {
        this.i++;
        const v = this.arg('macro value');
        if (v !== undefined) this.p.defineMacro(t, t.text, v);
        this.endOfStatement();
      } else if (this.isWord(t, 'include')) {
        const f = this.arg('file name');
        if (f !== undefined) this.p.file(path.resolve(path.dirname(this.file), f), this.depth + 1, this.seen);
        this.endOfStatement();
      } else if (this.isWord(t, 'local')) this.localPrefix(t);
      else if (this.isWord(t, 'socket')) this.socketOwner(t);
      else if (this.isWord(t, 'staggered')) this.staggered(t);
      else if (this.isWord(t, 'switch')) this.switchBlock(t);
      else if (this.isWord(t, 'vm')) this.vmBlock(t);
      else {
        this.err(t, `syntax error: unknown keyword '${t.text}'`);
        this.skipLine();
      }
    }
  }

  private localPrefix(t: Token): void {
    if (!this.isWord(this.next(), 'prefix')) {
      this.err(t, "syntax error: expected 'local prefix address/prefix'");
      return this.skipLine();
    }
    const v = this.arg('prefix');
    if (v !== undefined) {
      if (!isLocalPrefix(v)) this.err(t, `invalid local prefix: ${v}`);
      else {
        this.p.conf.localPrefix = v;
        this.p.conf.globalsAt.localPrefix = { file: t.file, line: t.line };
      }
    }
    this.endOfStatement();
  }

  private owner(t: Token, v: string): boolean {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$|^:[A-Za-z0-9_][A-Za-z0-9_.-]*$|^[A-Za-z0-9_][A-Za-z0-9_.-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v)) {
      this.err(t, `invalid owner: ${v} (user[:group])`);
      return false;
    }
    return true;
  }

  private socketOwner(t: Token): void {
    if (!this.isWord(this.next(), 'owner')) {
      this.err(t, "syntax error: expected 'socket owner user[:group]'");
      return this.skipLine();
    }
    const v = this.arg('owner');
    if (v !== undefined && this.owner(t, v)) {
      this.p.conf.socketOwner = v;
      this.p.conf.globalsAt.socketOwner = { file: t.file, line: t.line };
    }
    this.endOfStatement();
  }

  private count(t: Token, v: string | undefined, what: string, min: number, max: number): number | undefined {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.err(t, `invalid ${what}: ${v} (${min} to ${max})`);
      return undefined;
    }
    return Number(v);
  }

  private staggered(t: Token): void {
    if (!this.isWord(this.next(), 'start') || !this.isWord(this.next(), 'parallel')) {
      this.err(t, "syntax error: expected 'staggered start parallel N delay S'");
      return this.skipLine();
    }
    const parallel = this.count(t, this.arg('count'), 'parallel count', 1, 1024);
    if (!this.isWord(this.next(), 'delay')) {
      this.err(t, "syntax error: expected 'delay seconds'");
      return this.skipLine();
    }
    const delay = this.count(t, this.arg('delay'), 'delay', 0, 86400);
    if (parallel !== undefined && delay !== undefined) {
      this.p.conf.staggeredStart = { parallel, delay };
      this.p.conf.globalsAt.staggeredStart = { file: t.file, line: t.line };
    }
    this.endOfStatement();
  }

  /** `{ statement \n … }`: calls `each` for every statement's first token. */
  private block(open: Token, each: (t: Token) => void): void {
    this.skipNewlines();
    if (this.peek().kind !== '{') {
      this.err(open, "syntax error: expected '{'");
      return this.skipLine();
    }
    this.i++;
    for (;;) {
      this.skipNewlines();
      if (this.atEnd() || (this.peek().kind === 'nl' && this.i >= this.toks.length - 1)) {
        this.err(open, "syntax error: missing '}'");
        return;
      }
      const t = this.next();
      if (t.kind === '}') break;
      if (t.kind === ',') continue;
      each(t);
    }
  }

  private name(t: Token, what: string): string | undefined {
    const v = this.arg(`${what} name`);
    if (v === undefined) return undefined;
    if (v === '' || Buffer.byteLength(v) > 63 || /^[-._]/.test(v) || !/^[A-Za-z0-9._-]+$/.test(v) || /^\d+$/.test(v)) {
      this.err(t, `invalid ${what} name: ${v}`);
      return undefined;
    }
    return v;
  }

  private switchBlock(t: Token): void {
    const name = this.name(t, 'switch');
    if (name === undefined) return this.skipLine();
    const sw: ConfSwitch = { name, file: t.file, line: t.line, enabled: true, lockedLladdr: false, up: true };
    this.block(t, (s) => {
      if (this.isWord(s, 'enable')) sw.enabled = true;
      else if (this.isWord(s, 'disable')) sw.enabled = false;
      else if (this.isWord(s, 'up')) sw.up = true;
      else if (this.isWord(s, 'down')) sw.up = false;
      else if (this.isWord(s, 'group')) sw.group = this.arg('group');
      else if (this.isWord(s, 'interface')) sw.interface = this.ifname(s, this.arg('interface'));
      else if (this.isWord(s, 'locked')) {
        if (!this.isWord(this.next(), 'lladdr')) this.err(s, "syntax error: expected 'locked lladdr'");
        sw.lockedLladdr = true;
      } else {
        this.err(s, `syntax error: unknown switch option '${s.text}'`);
        return this.skipLine();
      }
      this.endOfStatement();
    });
    this.endOfStatement();
    if (this.p.conf.switches.some((x) => x.name === name)) this.err(t, `switch "${name}" defined twice`);
    else if (this.p.conf.switches.length >= VMCONF_LIMITS.switches) this.err(t, 'too many switches');
    else this.p.conf.switches.push(sw);
  }

  private ifname(t: Token, v: string | undefined): string | undefined {
    if (v === undefined) return undefined;
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(v)) {
      this.err(t, `invalid interface name: ${v}`);
      return undefined;
    }
    return v;
  }

  private lladdr(t: Token, v: string | undefined): string | undefined {
    if (v === undefined) return undefined;
    if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/.test(v)) {
      this.err(t, `invalid lladdr: ${v}`);
      return undefined;
    }
    const bytes = v.split(':').map((b) => parseInt(b, 16));
    if (bytes[0] & 1) {
      this.err(t, `invalid lladdr: ${v} is a multicast address`);
      return undefined;
    }
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  private path(t: Token, v: string | undefined): string | undefined {
    if (v === undefined) return undefined;
    if (v === '' || Buffer.byteLength(v) > 1024) {
      this.err(t, `invalid path: ${v === '' ? '(empty)' : 'longer than 1024 bytes'}`);
      return undefined;
    }
    // Relative paths are taken from the configuration file's own directory.
    return path.resolve(path.dirname(t.file), v);
  }

  private iface(s: Token, vm: ConfVm, local: boolean): void {
    const itf: ConfInterface = { local, locked: false };
    const n = this.peek();
    if ((n.kind === 'word' || n.kind === 'string') && !RESERVED.has(n.text)) itf.name = this.ifname(s, this.arg('interface'));
    // Its options block may open on the next line; without one, the newline ends the statement.
    let j = this.i;
    while (j < this.toks.length - 1 && this.toks[j].kind === 'nl') j++;
    if (this.toks[j]?.kind === '{') {
      this.block(s, (o) => {
        if (this.isWord(o, 'switch')) itf.switch = this.arg('switch');
        else if (this.isWord(o, 'group')) itf.group = this.arg('group');
        else if (this.isWord(o, 'up')) itf.up = true;
        else if (this.isWord(o, 'down')) itf.up = false;
        else if (this.isWord(o, 'lladdr')) {
          if (this.isWord(this.peek(), 'locked')) {
            this.i++;
            itf.locked = true;
          }
          itf.lladdr = this.lladdr(o, this.arg('lladdr'));
        } else if (this.isWord(o, 'locked')) {
          if (!this.isWord(this.next(), 'lladdr')) this.err(o, "syntax error: expected 'locked lladdr'");
          itf.locked = true;
          const a = this.peek();
          if (a.kind === 'word' || a.kind === 'string') itf.lladdr = this.lladdr(o, this.arg('lladdr'));
        } else {
          this.err(o, `syntax error: unknown interface option '${o.text}'`);
          return this.skipLine();
        }
        this.endOfStatement();
      });
    }
    if (vm.interfaces.length >= VMCONF_LIMITS.interfaces) this.err(s, `too many interfaces (at most ${VMCONF_LIMITS.interfaces})`);
    else vm.interfaces.push(itf);
  }

  private vmBlock(t: Token): void {
    const name = this.name(t, 'vm');
    if (name === undefined) return this.skipLine();
    const vm: ConfVm = { name, file: t.file, line: t.line, disks: [], interfaces: [] };
    if (this.isWord(this.peek(), 'instance')) {
      this.i++;
      vm.instanceOf = this.name(t, 'parent vm');
    }
    this.block(t, (s) => {
      const w = s.kind === 'word' ? s.text : '';
      switch (w) {
        case 'enable':
          vm.enabled = true;
          break;
        case 'disable':
          vm.enabled = false;
          break;
        case 'memory': {
          const v = this.arg('memory size');
          if (v === undefined) break;
          const b = scanScaled(v);
          if (b === undefined || b < 16 * 1024 * 1024 || b > 32 * 1024 ** 3) this.err(s, `invalid memory size: ${v} (16M to 32G)`);
          else vm.memory = Math.floor(b / (1024 * 1024)) * 1024 * 1024;
          break;
        }
        case 'cpus':
          vm.cpus = this.count(s, this.arg('cpu count'), 'cpu count', 1, 8);
          break;
        case 'jit': {
          const v = this.arg('yes or no');
          if (v === 'yes' || v === 'no') vm.jit = v === 'yes';
          else if (v !== undefined) this.err(s, `invalid jit setting: ${v} (yes or no)`);
          break;
        }
        case 'boot': {
          if (this.isWord(this.peek(), 'device')) {
            this.i++;
            const d = this.arg('boot device');
            if (d === 'disk' || d === 'cdrom' || d === 'net') vm.bootDevice = d;
            else if (d !== undefined) this.err(s, `invalid boot device: ${d} (disk, cdrom or net)`);
          } else vm.kernel = this.path(s, this.arg('boot path'));
          break;
        }
        case 'initrd':
          vm.initrd = this.path(s, this.arg('initrd path'));
          break;
        case 'bios':
          vm.bios = this.path(s, this.arg('bios path'));
          break;
        case 'cmdline': {
          const v = this.arg('kernel command line');
          if (v !== undefined && Buffer.byteLength(v) > 1024) this.err(s, 'kernel command line longer than 1024 bytes');
          else vm.cmdline = v;
          break;
        }
        case 'cdrom':
          vm.cdrom = this.path(s, this.arg('cdrom path'));
          break;
        case 'disk': {
          const p = this.path(s, this.arg('disk path'));
          let format: 'raw' | 'qcow2' | undefined;
          if (this.isWord(this.peek(), 'format')) {
            this.i++;
            const f = this.arg('disk format');
            if (f === 'raw' || f === 'qcow2') format = f;
            else if (f !== undefined) this.err(s, `invalid disk format: ${f} (raw or qcow2)`);
          }
          if (vm.disks.length >= VMCONF_LIMITS.disks) this.err(s, `too many disks (at most ${VMCONF_LIMITS.disks})`);
          else if (p !== undefined) vm.disks.push({ path: p, ...(format ? { format } : {}) });
          break;
        }
        case 'interface':
          this.iface(s, vm, false);
          break;
        case 'interfaces': {
          const n = this.count(s, this.arg('interface count'), 'interface count', 0, VMCONF_LIMITS.interfaces);
          for (let k = 0; n !== undefined && k < n; k++) {
            if (vm.interfaces.length >= VMCONF_LIMITS.interfaces) {
              this.err(s, `too many interfaces (at most ${VMCONF_LIMITS.interfaces})`);
              break;
            }
            vm.interfaces.push({ local: false, locked: false });
          }
          break;
        }
        case 'local':
          if (!this.isWord(this.next(), 'interface')) {
            this.err(s, "syntax error: expected 'local interface'");
            return this.skipLine();
          }
          this.iface(s, vm, true);
          break;
        case 'owner': {
          const v = this.arg('owner');
          if (v !== undefined && this.owner(s, v)) vm.owner = v;
          break;
        }
        case 'allow': {
          if (!this.isWord(this.next(), 'instance')) {
            this.err(s, "syntax error: expected 'allow instance { … }'");
            return this.skipLine();
          }
          const allow = { options: [] as (typeof INSTANCE_OPTIONS)[number][], owners: [] as string[] };
          this.block(s, (o) => {
            if (this.isWord(o, 'owner')) {
              const v = this.arg('owner');
              if (v !== undefined && this.owner(o, v)) allow.owners.push(v);
            } else if (o.kind === 'word' && ALLOW_OPTIONS.includes(o.text)) {
              const opt = o.text as (typeof INSTANCE_OPTIONS)[number];
              if (!allow.options.includes(opt)) allow.options.push(opt);
            } else {
              this.err(o, `syntax error: unknown allow instance option '${o.text}'`);
              return this.skipLine();
            }
            this.endOfStatement();
          });
          vm.allowInstance = allow;
          break;
        }
        default:
          this.err(s, `syntax error: unknown vm option '${s.text}'`);
          return this.skipLine();
      }
      this.endOfStatement();
    });
    this.endOfStatement();
    if (this.p.conf.vms.some((x) => x.name === name)) this.err(t, `vm "${name}" defined twice`);
    else if (this.p.conf.vms.length >= VMCONF_LIMITS.vms) this.err(t, 'too many vms');
    else this.p.conf.vms.push(vm);
  }
}

/**
 * Parses the vm.conf at `file` (an absolute path) and everything it includes.
 * Throws VmConfError with every `file:line: message` found; returns nothing
 * partial.
 */
export function parseVmConf(file: string, read: ReadFile): VmConf {
  const p = new Parser(read);
  p.file(path.resolve(file), 0, []);
  const conf = p.finish();
  // Instances name a parent defined in the same configuration or (checked by
  // the daemon) one it already has; a VM cannot be its own parent.
  const errors: string[] = [];
  for (const vm of conf.vms)
    if (vm.instanceOf === vm.name) errors.push(`${vm.file}:${vm.line}: vm "${vm.name}" cannot be an instance of itself`);
  if (errors.length) throw new VmConfError(errors);
  return conf;
}
