/**
 * The layers import downward only (docs/architecture.md):
 *   switch/  ←  api/  ←  plugins/  ←  daemon/ (the composition root)
 * switch/ is the switch itself and imports no other layer; api/ (HTTP server, CLI, dashboard) knows no plugin;
 * plugins/ bring their parts through plugins/plugin.ts and never reach into the root. The CLI loads the daemon only
 * for `vswitch up` (a dynamic import), so `vswitch status` stays a small client. And nowhere in the tree does a
 * module import itself back through others (no import circle): type-only imports count too, since they still
 * tie two files' meanings together.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const STATIC_IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
const SIDE_EFFECT_IMPORT = /^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

interface Graph {
  files: string[];
  imports: Map<string, string[]>;
}

function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: ROOT, encoding: 'utf8' });
  return listed.split('\n').filter((f) => f.endsWith('.ts') && !f.startsWith('node_modules/') && !f.endsWith('.d.ts'));
}

function buildGraph(files: string[]): Graph {
  const known = new Set(files);
  const imports = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets: string[] = [];
    for (const pattern of [STATIC_IMPORT, SIDE_EFFECT_IMPORT]) {
      for (const m of text.matchAll(pattern)) {
        const target = normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts');
        if (known.has(target)) targets.push(target);
      }
    }
    imports.set(file, targets);
  }
  return { files, imports };
}

const layerOf = (file: string): string => file.split('/')[0]!;

/** Which layers each layer may import (besides itself). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  switch: [],
  api: ['switch'],
  plugins: ['switch', 'api'],
  daemon: ['switch', 'api', 'plugins'],
};

export function layerViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph.imports) {
    const allowed = MAY_IMPORT[layerOf(file)];
    if (allowed === undefined) continue; // tests, scripts, examples may import anything
    for (const t of targets) {
      const layer = layerOf(t);
      if (layer !== layerOf(file) && !allowed.includes(layer)) out.push(`${file} -> ${t}`);
    }
  }
  return out.sort();
}

/** Strongly connected components of more than one file (Tarjan), each sorted: the import circles. */
export function importCircles(graph: Graph): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.imports.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.imports.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const f of graph.files) if (!indexOf.has(f)) visit(f);
  return circles;
}

function closure(graph: Graph, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const todo = [from];
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    for (const t of graph.imports.get(f) ?? []) if (!seen.has(t)) (seen.add(t), todo.push(t));
  }
  return seen;
}

describe('import boundaries', () => {
  const graph = buildGraph(sourceFiles());

  it('every layer imports only the layers below it', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it('no import circle anywhere in the tree', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('the CLI loads only the client: no daemon, datapath, link or plugin code behind `vswitch status`', () => {
    const loaded = [...closure(graph, 'api/cli/main.ts')].map((f) => relative(ROOT, join(ROOT, f)));
    const heavy = loaded.filter((f) => /^(daemon|plugins)\/|^switch\/(datapath|pipeline|overlay|offload|port)\b|^switch\/link\/(link-manager|transport)/.test(f));
    expect(heavy).toEqual([]);
  });

  it('`vswitch up --check` reads the config as `up` does, without the composition root or the addon loader', () => {
    // The built-in plugins' modules bring datapath code along (their config sections live beside it): loaded, never
    // run — test/api/cli/built-cli.test.ts runs the check with every socket, addon and TAP open forbidden.
    const loaded = [...closure(graph, 'daemon/config-check.ts')];
    expect(loaded).toContain('daemon/config.ts');
    expect(loaded.filter((f) => /^daemon\/(daemon|native|up)\.ts$/.test(f))).toEqual([]);
  });

  it('only the root loads the addon (daemon/native.ts); unit tests never do', () => {
    const callers = graph.files.filter((f) => !f.startsWith('test/e2e/') && f !== 'test/architecture/imports.test.ts' && !f.startsWith('scripts/bench/') && /\bloadAddon\(/.test(readFileSync(join(ROOT, f), 'utf8')));
    // The ports fall back to loadAddon() for e2e tests and benchmarks that open a TAP by hand; the daemon injects it.
    expect(callers.sort()).toEqual(['daemon/native.ts', 'switch/port/addon.ts', 'switch/port/capture-port.ts', 'switch/port/tap-port.ts']);
  });

  it('the checks do see a violation, a circle and a heavy CLI import', () => {
    const bad: Graph = {
      files: ['switch/a.ts', 'api/b.ts', 'api/c.ts', 'plugins/d.ts'],
      imports: new Map([
        ['switch/a.ts', ['api/b.ts']],
        ['api/b.ts', ['api/c.ts', 'plugins/d.ts']],
        ['api/c.ts', ['api/b.ts']],
        ['plugins/d.ts', []],
      ]),
    };
    expect(layerViolations(bad)).toEqual(['api/b.ts -> plugins/d.ts', 'switch/a.ts -> api/b.ts']);
    expect(importCircles(bad)).toEqual([['api/b.ts', 'api/c.ts']]);
  });
});
