import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this file holding package.json (works from api/ and dist/api/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export function readPackageFile(name: string): string {
  return readFileSync(join(packageRoot(), name), 'utf8');
}

export function packageVersion(): string {
  return (JSON.parse(readPackageFile('package.json')) as { version: string }).version;
}
