/**
 * VTTIF on the Proxy's API: the global matrix, the inferred application topology (also at the older
 * `GET /v1/topology/app`), the three parameters (read and set at run time) and a server-sent-event stream of the
 * changes VTTIF reports. A daemon that is not the Proxy answers 404 `not-proxy`; a Proxy whose config says
 * `vttif: { enabled: false }` answers 409 `vttif-disabled`.
 */
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { TopologyEventView, VttifService } from './proxy-service.js';
import type { VttifParameterChange, VttifSettings } from './vttif.js';
import type { components } from '../../api/generated/openapi.js';
import { VswitchError } from '../../switch/errors.js';
import { NotProxyError, type ApiEnv } from '../../api/http/primitive-routes.js';

/** The Proxy runs without VTTIF (config `vttif.enabled: false`). HTTP 409. */
/** The API's shapes (openapi.yaml): what these routes answer must be one of them. */
type Schemas = components['schemas'];

export class VttifDisabledError extends VswitchError {
  constructor() {
    super('vttif-disabled', 'VTTIF is disabled on this proxy (config vttif.enabled: false)', { httpStatus: 409 });
  }
}

const KEEPALIVE_MS = 15_000;

export function registerVttifRoutes(
  app: Hono<ApiEnv>,
  running: () => VttifService | undefined,
  /** The run-time change, saved before it is answered (undefined: VTTIF does not run here). */
  setParameters: (change: VttifParameterChange) => Promise<VttifSettings> | undefined,
  where: { readonly isProxy: boolean },
): void {
  const vttifOf = (): VttifService => {
    if (!where.isProxy) throw new NotProxyError();
    const service = running();
    if (!service) throw new VttifDisabledError();
    return service;
  };

  app.get('/v1/vttif/matrix', (c) => c.json(vttifOf().matrix() satisfies Schemas['VttifMatrix']));
  app.get('/v1/vttif/topology', (c) => c.json(vttifOf().topology() satisfies Schemas['AppTopology']));
  app.get('/v1/topology/app', (c) => c.json(vttifOf().topology()));
  app.get('/v1/vttif/parameters', (c) => c.json(vttifOf().settings() satisfies Schemas['VttifSettings']));
  app.put('/v1/vttif/parameters', async (c) => {
    vttifOf();
    const change = c.get('request').body as VttifParameterChange;
    return c.json(await setParameters(change));
  });
  app.get('/v1/vttif/events', (c) => streamEvents(c, vttifOf()));
}

/** `event: topology` per change, the current topology first; ends when the client goes away. */
function streamEvents(c: Context<ApiEnv>, vttif: VttifService): Response {
  return streamSSE(c, async (stream) => {
    const queue: TopologyEventView[] = [vttif.currentEvent()];
    let wake: (() => void) | undefined;
    const unsubscribe = vttif.subscribe((event) => {
      queue.push(event);
      wake?.();
    });
    let isOpen = true;
    stream.onAbort(() => {
      isOpen = false;
      unsubscribe();
      wake?.();
    });
    while (isOpen) {
      const event = queue.shift();
      if (event !== undefined) {
        await stream.writeSSE({ event: 'topology', data: JSON.stringify(event) });
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, KEEPALIVE_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (isOpen && queue.length === 0) await stream.write(': keepalive\n\n');
    }
    unsubscribe();
  });
}
