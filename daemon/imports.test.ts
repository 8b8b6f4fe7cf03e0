// The module graph of daemon/ and db/ has no cycles (type-only imports count:
// a cycle of types is still two modules that cannot be understood apart), and
// db/ imports nothing of the daemon: it has its own record types.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** The relative imports of one file (import/export ... from, import(), side-effect imports), as repo paths. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const target = path.join(path.dirname(file), m[1]).replace(/\.js$/, '.ts');
    out.push(target);
  }
  return out;
}

/** Every cycle's nodes (Tarjan's strongly connected components of more than one node, or a self-import). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function graphOf(dirs: string[]): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const d of dirs) for (const f of sources(d)) g.set(f, importsOf(f, fs.readFileSync(path.join(root, f), 'utf8')));
  return g;
}

test('the walker finds a cycle, including one of type-only imports', () => {
  const a = importsOf('daemon/a.ts', "import type { B } from './b.js';\nexport { x } from '../db/c.js';");
  expect(a).toEqual(['daemon/b.ts', 'db/c.ts']);
  const g = new Map([
    ['daemon/a.ts', a],
    ['daemon/b.ts', ['daemon/a.ts']],
    ['db/c.ts', []],
  ]);
  expect(cycles(g)).toEqual([['daemon/a.ts', 'daemon/b.ts']]);
  expect(cycles(new Map([['x.ts', ['x.ts']]]))).toEqual([['x.ts']]);
});

test('no import cycle among daemon/ and db/', () => {
  const g = graphOf(['daemon', 'db']);
  expect(g.has('daemon/supervisor.ts')).toBe(true);
  expect(cycles(g)).toEqual([]);
});

test('db/ imports only db/ (its own record types, no wire types)', () => {
  const outside: string[] = [];
  for (const [f, deps] of graphOf(['db'])) for (const d of deps) if (!d.startsWith('db/')) outside.push(`${f} -> ${d}`);
  expect(outside).toEqual([]);
});
