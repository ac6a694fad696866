/**
 * The project's own TypeScript, compiled into a temporary directory for a child process to run (Node 20 cannot run
 * .ts itself, and unit tests must not depend on a build in dist/): `transpiled(['daemon/crash-only.ts'])` compiles
 * those files and every relative module they import, keeping the tree's layout, and returns the directory.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const RELATIVE_IMPORT = /(?:from|import)\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g;

export function transpiled(entries: readonly string[]): string {
  const out = mkdtempSync(join(tmpdir(), 'vswitch-transpiled-'));
  const pending = [...entries];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = normalize(pending.pop()!);
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(join(ROOT, file), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } });
    mkdirSync(join(out, dirname(file)), { recursive: true });
    writeFileSync(join(out, file.replace(/\.ts$/, '.js')), outputText);
    // Only imports that survive compilation need their module (type-only ones are erased).
    for (const m of outputText.matchAll(RELATIVE_IMPORT)) pending.push(join(dirname(file), `${m[1]}.ts`));
  }
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  return out;
}
