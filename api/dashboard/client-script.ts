/**
 * The dashboard page's script: api/dashboard/client.ts and the modules it shares with the CLI
 * (api/wire/sse-parser.ts, api/wire/app-topology-layout.ts), compiled by the project's tsc with everything else
 * (`npm run build` → dist/), then linked here into the one classic-scope script the page inlines (one script, so
 * one CSP hash). Linked once at start-up, in a few milliseconds; no bundler, no CDN, nothing new to install.
 * Running from the sources (unit tests), the compiled files are looked for in dist/; when there are none the
 * page still renders, with a script that says the client is not built.
 *
 * The linker (linkModules) takes what tsc emits for these modules and nothing else: relative named imports
 * (`import { a, b as c } from './x.js'`), `export` on a function, class or const declaration, and export lists
 * (`export { a }`, `export { a } from './x.js'`). Each module becomes a function scope returning its exports,
 * dependencies first; anything else (a default or namespace import or export, `export let`, a bare or
 * non-relative import, `import()` or `import.meta`, an import cycle, a name a module does not export) is refused
 * with an error naming the module, and the result is compiled (not run) before it is used, so a mistake shows
 * at start-up and in the unit tests, never as a broken page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { packageRoot } from '../package-files.js';

export const CLIENT_NOT_BUILT_SCRIPT =
  "document.getElementById('banner').textContent = 'dashboard client not built: run npm run build';";

export function loadDashboardClient(): string {
  const candidates = [fileURLToPath(new URL('./client.js', import.meta.url)), join(packageRoot(), 'dist/api/dashboard/client.js')];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      return linkModules(file);
    } catch (err) {
      const message = `dashboard client cannot be linked: ${err instanceof Error ? err.message : String(err)}`;
      return `document.getElementById('banner').textContent = ${JSON.stringify(message)};`;
    }
  }
  return CLIENT_NOT_BUILT_SCRIPT;
}

/** One compiled module, taken apart: what it needs, what it gives, and its code without import/export syntax. */
interface LinkedModule {
  file: string;
  /** Per dependency (an absolute file): the bindings taken from it, [exported name, local name]. */
  imports: Map<string, [string, string][]>;
  /** Exported name → local name. */
  exports: Map<string, string>;
  body: string;
}

const NAME = /^[A-Za-z_$][\w$]*$/;
const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*(['"])([^'"]+)\2;?[ \t]*$/gm;
const EXPORT_FROM = /^export\s*\{([^}]*)\}\s*from\s*(['"])([^'"]+)\2;?[ \t]*$/gm;
const EXPORT_LIST = /^export\s*\{([^}]*)\};?[ \t]*$/gm;
const EXPORT_DECLARATION = /^export\s+((?:async\s+)?function\s*\*?|class|const)\s*([A-Za-z_$][\w$]*)/gm;

/**
 * The module `entry` (a compiled .js file) and every module it imports, as one script: each module in a
 * function scope, dependencies first, the entry last. `read` reads a file (tests give their own).
 */
export function linkModules(entry: string, read: (file: string) => string = (file) => readFileSync(file, 'utf8')): string {
  const ordered: LinkedModule[] = [];
  const state = new Map<string, 'linking' | 'done'>();
  const visit = (file: string, from: string | undefined): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'linking') throw new Error(`import cycle through ${shortName(file)}`);
    state.set(file, 'linking');
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      throw new Error(`${from ? `${shortName(from)} imports ${shortName(file)}, which` : `${shortName(file)}`} cannot be read (${(err as Error).message})`, { cause: err });
    }
    const mod = parseModule(file, text);
    for (const dep of mod.imports.keys()) visit(dep, file);
    state.set(file, 'done');
    ordered.push(mod);
  };
  visit(resolve(entry), undefined);
  const ids = new Map(ordered.map((m, i) => [m.file, `__module${i}`]));
  const byFile = new Map(ordered.map((m) => [m.file, m]));
  const parts = [`// The vswitch dashboard: ${ordered.map((m) => shortName(m.file)).join(', ')}, linked by api/dashboard/client-script.ts.`];
  for (const mod of ordered) {
    const bindings: string[] = [];
    for (const [dep, names] of mod.imports) {
      const exporter = byFile.get(dep)!;
      for (const [exported] of names) {
        if (!exporter.exports.has(exported)) throw new Error(`${shortName(mod.file)} imports ${exported} from ${shortName(dep)}, which does not export it`);
      }
      bindings.push(`const { ${names.map(([exported, local]) => (exported === local ? local : `${exported}: ${local}`)).join(', ')} } = ${ids.get(dep)};`);
    }
    const exported = [...mod.exports].map(([name, local]) => (name === local ? name : `${name}: ${local}`)).join(', ');
    parts.push(`// ---- ${shortName(mod.file)}`, `const ${ids.get(mod.file)} = (() => {`, ...bindings, mod.body.trim(), `return Object.freeze({ ${exported} });`, '})();');
  }
  const script = parts.join('\n') + '\n';
  try {
    new Script(script, { filename: 'dashboard-client.js' }); // compiled only: any import/export left, or a clash, is a SyntaxError here
  } catch (err) {
    throw new Error(`the linked script does not compile: ${(err as Error).message}`, { cause: err });
  }
  return script;
}

function parseModule(file: string, source: string): LinkedModule {
  const where = shortName(file);
  const imports = new Map<string, [string, string][]>();
  const exports = new Map<string, string>();
  const addImports = (list: string, specifier: string): [string, string][] => {
    if (!/^\.\.?\//.test(specifier)) throw new Error(`${where}: import from "${specifier}": only relative imports can be linked into the page`);
    const dep = resolve(dirname(file), specifier);
    const names = bindingList(list, where);
    imports.set(dep, [...(imports.get(dep) ?? []), ...names]);
    return names;
  };
  let body = source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  body = body.replace(IMPORT, (_all, list: string, _q, specifier: string) => {
    addImports(list, specifier);
    return '';
  });
  body = body.replace(EXPORT_FROM, (_all, list: string, _q, specifier: string) => {
    for (const [, local] of addImports(list, specifier)) exports.set(local, local);
    return '';
  });
  body = body.replace(EXPORT_LIST, (_all, list: string) => {
    for (const [local, exported] of bindingList(list, where)) exports.set(exported, local);
    return '';
  });
  body = body.replace(EXPORT_DECLARATION, (_all, kind: string, name: string) => {
    exports.set(name, name);
    return `${kind.trim()} ${name}`;
  });
  const left = /^(import|export)\b.*$/m.exec(body) ?? /\bimport\s*(\(|\.\s*meta\b)/.exec(body);
  if (left) throw new Error(`${where}: cannot link "${left[0].trim().slice(0, 60)}" (only named relative imports and exported declarations)`);
  return { file, imports, exports, body };
}

/** `a, b as c` → [['a', 'a'], ['b', 'c']]: [name on the left, name on the right]. */
function bindingList(list: string, where: string): [string, string][] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(\S+)(?:\s+as\s+(\S+))?$/.exec(s);
      const left = m?.[1];
      const right = m?.[2] ?? left;
      if (!left || !right || !NAME.test(left) || !NAME.test(right) || left === 'default' || right === 'default') {
        throw new Error(`${where}: cannot link the binding "${s}"`);
      }
      return [left, right];
    });
}

function shortName(file: string): string {
  const rel = relative(packageRoot(), file);
  return rel.startsWith('..') ? file : rel;
}
