/**
 * The source layout (docs/development.md): only the entry points at src/'s root, and the imports
 * between src/'s folders all point one way (no folder imports one that imports it, directly or
 * through others). Read from the TypeScript sources' import lines.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
/** The top folder of a file under src/; a root file (an entry point) is a node of its own. */
const topOf = (file: string) => (file.includes(sep) ? file.split(sep)[0] : file);

/** top folder -> the top folders its files import (relative specifiers, static and dynamic). */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(SRC, normalize(join(SRC, dirname(file), m[1])));
      if (target.startsWith('..')) continue;
      const [a, b] = [topOf(file), topOf(target)];
      if (a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
    }
  }
  return edges;
}

test("only the entry points sit at src/'s root", () => {
  assert.deepEqual(files.filter((f) => !f.includes(sep)).sort(), ['cli.ts', 'experiment.ts']);
});

test('imports between src/ folders point one way: no folder reaches itself through others', () => {
  const edges = folderImports();
  assert.ok((edges.get('run')?.size ?? 0) > 0, 'the import lines were read');
  const cycleFrom = (start: string): string[] | undefined => {
    const walk = (at: string, path: string[]): string[] | undefined => {
      for (const next of edges.get(at) ?? []) {
        if (next === start) return [...path, next];
        if (!path.includes(next)) {
          const found = walk(next, [...path, next]);
          if (found) return found;
        }
      }
      return undefined;
    };
    return walk(start, [start]);
  };
  for (const folder of edges.keys()) assert.equal(cycleFrom(folder)?.join(' -> '), undefined, `a cycle of imports through ${folder}`);
});

test('core imports no other folder; config only core', () => {
  const edges = folderImports();
  assert.deepEqual([...(edges.get('core') ?? [])], []);
  assert.deepEqual([...(edges.get('config') ?? [])], ['core']);
});
