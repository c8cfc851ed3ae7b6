/**
 * journey/ (state and how events move it) and policy/ (decisions over it) import the policy
 * specification (spec/) and policy/ reads journey/, never the reverse: no directory-level cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = resolve(__dirname, '../../src');

function importedDirs(dir: string): Set<string> {
  const out = new Set<string>();
  for (const file of readdirSync(join(src, dir)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(src, dir, file), 'utf8');
    for (const m of text.matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = relative(src, dirname(resolve(src, dir, m[1]!)));
      if (target !== dir) out.add(target);
    }
  }
  return out;
}

describe('engine module layering', () => {
  it('journey/ imports spec/ only, never policy/', () => {
    expect([...importedDirs('journey')].sort()).toEqual(['spec']);
  });
  it('spec/ imports neither journey/ nor policy/', () => {
    expect([...importedDirs('spec')]).toEqual([]);
  });
  it('policy/ may read journey/ and spec/', () => {
    const dirs = importedDirs('policy');
    expect(dirs.has('spec')).toBe(true);
    for (const d of dirs) expect(['journey', 'spec']).toContain(d);
  });
});
