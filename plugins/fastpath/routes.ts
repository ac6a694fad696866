/**
 * The fast-path plugin's own routes on the Proxy's API (enabling and disabling it is also PATCH /v1/plugins/fastpath,
 * as for every plugin): GET /v1/plugins/fastpath/status (settings, fast links, counters, timings), PUT …/settings to change
 * its parameters or enable/disable it (disabling removes every fast link, rules first). A daemon that is not the
 * Proxy answers 404 `not-proxy`; a Proxy without VTTIF (so without the plugin) 409 `vttif-disabled`; a standby
 * Proxy (HA) refuses a settings change with 421 `proxy-standby` naming the active one.
 */
import type { Hono } from 'hono';
import type { FastPath, FastPathSettings } from './fastpath.js';
import type { components } from '../../api/generated/openapi.js';
import { VswitchError } from '../../switch/errors.js';
import { NotProxyError, type ApiEnv } from '../../api/http/primitive-routes.js';
import type { RouteWhere } from '../plugin.js';

/** The Proxy runs without VTTIF, so without the fast-path plugin. HTTP 409 (code `vttif-disabled`). */
/** The API's shapes (openapi.yaml): what these routes answer must be one of them. */
type Schemas = components['schemas'];

export class FastPathUnavailableError extends VswitchError {
  constructor() {
    super('vttif-disabled', 'the fast-path plugin needs VTTIF, which is disabled on this proxy (config vttif.enabled: false)', { httpStatus: 409 });
  }
}

export function registerFastPathRoutes(app: Hono<ApiEnv>, running: () => FastPath | undefined, where: RouteWhere): void {
  const fastpathOf = (): FastPath => {
    if (!where.isProxy) throw new NotProxyError();
    const fastpath = running();
    if (!fastpath) throw new FastPathUnavailableError();
    return fastpath;
  };
  app.get('/v1/plugins/fastpath/status', (c) => c.json(fastpathOf().status() satisfies Schemas['FastPathStatus']));
  app.put('/v1/plugins/fastpath/settings', async (c) => {
    const fastpath = fastpathOf();
    // A standby's settings would be replaced by etcd's desired state when it wins: set them on the active one.
    const refused = where.standby?.();
    if (refused) throw refused;
    await fastpath.setSettings(c.get('request').body as Partial<FastPathSettings>);
    return c.json(fastpath.status());
  });
}
