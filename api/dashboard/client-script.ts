/**
 * The dashboard page's script is api/dashboard/client.ts, compiled by the
 * project's tsc with everything else (`npm run build` → dist/api/dashboard/client.js):
 * assets are bundled at build time, nothing comes from a CDN. Read once at
 * start-up. Running from the sources (unit tests), the compiled file is
 * looked for in dist/; when there is none the page still renders, with a
 * script that says the client is not built.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../package-files.js';

export const CLIENT_NOT_BUILT_SCRIPT =
  "document.getElementById('banner').textContent = 'dashboard client not built: run npm run build';";

export function loadDashboardClient(): string {
  const candidates = [fileURLToPath(new URL('./client.js', import.meta.url)), join(packageRoot(), 'dist/api/dashboard/client.js')];
  for (const file of candidates) {
    if (existsSync(file)) return stripSourceMapComment(readFileSync(file, 'utf8'));
  }
  return CLIENT_NOT_BUILT_SCRIPT;
}

/** The page is inline: a source-map comment would point at a file the daemon does not serve. */
function stripSourceMapComment(js: string): string {
  return js.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}
