/**
 * createApp builds the daemon's HTTP API as a Hono app and never listens:
 * tests call `app.request(...)`, `server.ts` binds it to a socket. What the
 * routes read comes in as `ApiDeps`, so the API knows nothing of ports or
 * sockets, only of the views the daemon gives it.
 */
import { Hono } from 'hono';
import type { MacEntry, PortStatus, Problem, Status } from './schemas.js';

export interface ApiDeps {
  status(): Status;
  ports(): PortStatus[];
  macs(): MacEntry[];
  /** The text of openapi.yaml, served as the API's own description. */
  specText: string;
}

export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  app.get('/v1/status', (c) => c.json(deps.status()));
  app.get('/v1/ports', (c) => c.json({ ports: deps.ports() }));
  app.get('/v1/macs', (c) => c.json({ macs: deps.macs() }));
  app.get('/openapi.yaml', (c) => c.body(deps.specText, 200, { 'content-type': 'application/yaml; charset=utf-8' }));
  app.notFound((c) => problem(c.req.path, 404, 'Not Found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => problem(c.req.path, 500, 'Internal Server Error', err.message));
  return app;
}

export function problem(instance: string, status: number, title: string, detail: string): Response {
  const body: Problem = { type: 'about:blank', title, status, detail, instance };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } });
}
