/**
 * The page's one script (api/dashboard/client-script.ts): the compiled client linked with the modules it
 * imports. The linker takes what tsc emits and refuses the rest.
 */
import { createContext, Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { linkModules } from '../../../api/dashboard/client-script.js';

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
