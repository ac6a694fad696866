/**
 * The routes a Hono app serves against the operations openapi.yaml
 * declares, as two lists of differences. Empty both ways means the spec and
 * the server describe the same API (test/api/spec-routes.test.ts).
 */
import type { Hono } from 'hono';
import type { Env } from 'hono';
import type { RequestValidator } from './request-validator.js';

export interface RouteDifferences {
  /** "POST /v1/things" served by the app but absent from the spec. */
  notInSpec: string[];
  /** Declared in the spec but not served. */
  notServed: string[];
}

export function compareRoutesWithSpec<E extends Env>(app: Hono<E>, validator: RequestValidator): RouteDifferences {
  const served = new Set(
    app.routes
      .filter((r) => r.method !== 'ALL') // middleware
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
  );
  const declared = new Set(validator.operations.map((op) => `${op.method} ${op.path}`));
  return {
    notInSpec: [...served].filter((r) => !declared.has(r)).sort(),
    notServed: [...declared].filter((r) => !served.has(r)).sort(),
  };
}
