/**
 * The page's one script (api/dashboard/client-script.ts): the compiled client linked with the modules it
 * shares with the CLI (the SSE parser, the application-topology drawing). The linker takes what tsc emits and
 * refuses the rest; the real client, compiled and linked, runs as the page runs it (on the fake DOM, with a
 * fake fetch) and draws with the shared modules, which it carries once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, Script } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CLIENT_NOT_BUILT_SCRIPT, linkModules, loadDashboardClient } from '../../../api/dashboard/client-script.js';
import { buildDashboardPage, renderDashboardPage } from '../../../api/dashboard/page.js';
import { FakeDocument, parseHtml, type FakeElement } from './fake-dom.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A linker `read` over an in-memory set of modules (paths relative to /virtual). */
function virtual(files: Record<string, string>): (file: string) => string {
  return (file) => {
    const text = files[file.replace(/^\/virtual\//, '')];
    if (text === undefined) throw new Error('no such file');
    return text;
  };
}

/** Links /virtual/main.js and runs it in a fresh context; returns what it put in `out`. */
function linkAndRun(files: Record<string, string>): unknown {
  const script = linkModules('/virtual/main.js', virtual(files));
  const context = createContext({ out: undefined as unknown });
  new Script(script).runInContext(context);
  return context.out;
}

describe('linkModules', () => {
  it('links named imports (renamed too), exported declarations, export lists and re-exports, dependencies first, each module in its own scope', () => {
    const out = linkAndRun({
      'main.js': [
        "import { twice, Counter as C, HALF } from './lib/maths.js';",
        "import { greet } from './lib/index.js';",
        'const local = 1; // the same name as in maths.js: each module has its own scope',
        'out = [twice(21), new C().next(), HALF, greet("x"), local, typeof order];',
        'export function unused() {}',
        '//# sourceMappingURL=main.js.map',
      ].join('\n'),
      'lib/maths.js': [
        'const local = 2;',
        'export const HALF = 0.5;',
        'export function twice(n) { return n * local; }',
        'class Counter { n = 0; next() { return ++this.n; } }',
        'export { Counter };',
      ].join('\n'),
      'lib/index.js': ["export { hello as greet } from './hello.js';"].join('\n'),
      'lib/hello.js': ['export async function ignored() {}', 'export function* gen() {}', 'function hello(who) { return `hello ${who}`; }', 'export { hello };'].join('\n'),
    });
    expect(out).toEqual([42, 1, 0.5, 'hello x', 1, 'undefined']);
    const script = linkModules('/virtual/main.js', virtual({ 'main.js': "import { a } from './a.js';\nout = a;", 'a.js': 'export const a = 1;' }));
    expect(script.indexOf('/virtual/a.js')).toBeLessThan(script.indexOf('/virtual/main.js', script.indexOf('\n')));
    expect(script).not.toMatch(/^(import|export)\b/m);
    expect(script).not.toContain('sourceMappingURL');
  });

  it('refuses, naming the module, what it cannot link safely', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'main.js': 'export default 1;' }, /main\.js: cannot link "export default 1;"/],
      [{ 'main.js': 'export let n = 1;' }, /cannot link "export let n/],
      [{ 'main.js': "import { readFileSync } from 'node:fs';" }, /import from "node:fs": only relative imports/],
      [{ 'main.js': "import * as x from './x.js';", 'x.js': '' }, /cannot link "import \* as x/],
      [{ 'main.js': "import './x.js';", 'x.js': '' }, /cannot link "import '.\/x.js';"/],
      [{ 'main.js': "const m = await import('./x.js');" }, /cannot link "import\(/],
      [{ 'main.js': 'out = import.meta.url;' }, /cannot link "import\.meta/],
      [{ 'main.js': "import { default as d } from './x.js';", 'x.js': '' }, /cannot link the binding "default as d"/],
      [{ 'main.js': "import { a } from './a.js';", 'a.js': "import { b } from './b.js';\nexport const a = 1;", 'b.js': "import { a } from './a.js';\nexport const b = 2;" }, /import cycle through \/virtual\/a\.js/],
      [{ 'main.js': "import { nope } from './a.js';", 'a.js': 'export const a = 1;' }, /main\.js imports nope from \/virtual\/a\.js, which does not export it/],
      [{ 'main.js': "import { a } from './missing.js';" }, /main\.js imports \/virtual\/missing\.js, which cannot be read/],
      [{ 'main.js': "import { a } from './a.js';\nconst a = 2;", 'a.js': 'export const a = 1;' }, /the linked script does not compile/],
    ];
    for (const [files, error] of cases) expect(() => linkModules('/virtual/main.js', virtual(files)), JSON.stringify(files)).toThrow(error);
  });
});

// ---- the real client -------------------------------------------------------------------------------

/** What tsc makes of a source (as `npm run build` does, for one file): the linker's input. */
function compiled(file: string): string {
  const tsFile = file.replace(/\.js$/, '.ts');
  return ts.transpileModule(readFileSync(tsFile, 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext }, fileName: tsFile }).outputText;
}

const linkedClient = (): string => linkModules(join(ROOT, 'api/dashboard/client.js'), compiled);

describe('the page script: the client linked with the modules it shares with the CLI', () => {
  it('carries api/wire/sse-parser and api/wire/app-topology-layout once each, and no other parser or drawing', () => {
    const script = linkedClient();
    const modules = [...script.matchAll(/^\/\/ ---- (\S+)$/gm)].map((m) => m[1]);
    expect(modules).toEqual(['api/wire/app-topology-layout.js', 'api/wire/sse-parser.js', 'api/dashboard/client.js']);
    expect(script.match(/class SseParser\b/g)).toHaveLength(1);
    expect(script.match(/function layoutAppTopology\b/g)).toHaveLength(1);
    expect(script.match(/startsWith\(':'\)/g)).toHaveLength(1); // the comment rule of SSE: in the parser alone
    // Nothing from Node in the browser's modules.
    expect(script).not.toMatch(/\brequire\(|['"]node:|\bprocess\.|\bBuffer\./);
  });

  it('runs as the page runs it: reads the SSE stream with the shared parser and draws the shared scene, under the page CSP hash', async () => {
    const script = linkedClient();
    const page = buildDashboardPage(script);
    expect(page.html).toContain(`<script type="module">\n${script}\n</script>`); // inlined as is: no "</script", no CR in it
    expect(page.csp).toContain(`script-src 'sha256-${createHash('sha256').update(`\n${script}\n`).digest('base64')}'`);
    const doc = new FakeDocument();
    const body = /<body>([\s\S]*?)<script/.exec(renderDashboardPage(''))![1]!;
    doc.body.append(...parseHtml(doc, body));
    const sseText =
      ': hi\r\nevent: log\r\nid: 4\r\ndata: {"seq":4,"at":"2026-01-01T00:00:00.000Z","level":"info","event":"rule-added",\r\ndata: "msg":"m","fields":{}}\r\n\r\n';
    const topology = { edges: [{ a: '02:00:00:00:00:01', b: '<script>', intensity: 1 }], shape: 'ring' };
    const respond = (path: string): Response => {
      if (path === '/v1/events') {
        const bytes = new TextEncoder().encode(sseText);
        return new Response(new ReadableStream({ start: (c) => [...bytes].forEach((b) => c.enqueue(new Uint8Array([b]))) }), { status: 200 }); // a byte at a time
      }
      if (path === '/v1/vttif/topology') return new Response(JSON.stringify(topology), { status: 200 });
      return new Response('{}', { status: 404 });
    };
    const context = createContext({
      document: doc,
      location: { hash: '', pathname: '/', search: '' },
      history: { replaceState: () => {} },
      sessionStorage: { removeItem: () => {} },
      fetch: async (path: string) => respond(path),
      setTimeout: () => 0, // the loops sleep after their first round
      Headers,
      TextDecoder,
      console,
    });
    context.window = context;
    new Script(script).runInContext(context);
    const app = (): FakeElement => doc.getElementById('app-topology')!;
    for (let i = 0; i < 500 && !(doc.getElementById('log')!.textContent.includes('rule-added') && app().querySelector('svg')); i++) await new Promise((r) => setImmediate(r));
    expect(doc.getElementById('log')!.querySelector('li')!.getAttribute('data-event')).toBe('rule-added');
    expect((context.vswitchDashboard as { lastEventId: string }).lastEventId).toBe('4');
    expect(app().querySelector('.app-title')!.textContent).toBe('ring — 1 edge (width ∝ intensity)');
    expect(app().querySelectorAll('.app-label').map((t) => t.textContent)).toEqual(['02:00:00:00:00:01', '<script>']);
    expect(app().querySelectorAll('script')).toEqual([]);
    expect(app().querySelector('line')!.getAttribute('stroke-width')).toBe('8');
  });

  it('loadDashboardClient links the compiled client from dist/ when there is one, else says it is not built', () => {
    const loaded = loadDashboardClient();
    if (loaded === CLIENT_NOT_BUILT_SCRIPT) return; // a clean checkout without `npm run build`
    expect(loaded).toMatch(/^\/\/ The vswitch dashboard: .*dist\/api\/wire\/sse-parser\.js.*dist\/api\/dashboard\/client\.js/);
    expect(loaded).not.toMatch(/^(import|export)\b/m);
  });
});
