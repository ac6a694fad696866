/**
 * Wires FastPath to a Proxy's parts: VTTIF's change events and topology, the relayed primitives of its hosts,
 * its own links (each host's key and underlay address) and MAC table. The daemon calls this once, after VTTIF
 * starts; the plugin runs (and can be enabled at run time) whether or not the config enables it.
 */
import type { Clock } from '../../switch/clock.js';
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { Logger } from '../../switch/log.js';
import type { MacView, Primitives } from '../../switch/overlay/primitives.js';
import type { VttifService } from '../vttif/proxy-service.js';
import { FastPath, type FastPathSettings } from './fastpath.js';

export interface FastPathOnProxy {
  vttif: VttifService;
  host(name: string): Primitives | undefined;
  links(): LinkStatus[];
  macs(): MacView[];
  clock: Clock;
  log: Logger;
  settings: Partial<FastPathSettings>;
}

export function startFastPathOnProxy(parts: FastPathOnProxy): FastPath {
  const fastpath = new FastPath(
    {
      clock: parts.clock,
      log: parts.log,
      subscribe: (listener) => parts.vttif.subscribe(listener),
      currentEdges: () => parts.vttif.topology().edges,
      host: (name) => parts.host(name),
      proxyLinks: () => parts.links(),
      proxyMacs: () => parts.macs(),
    },
    parts.settings,
  );
  fastpath.start();
  return fastpath;
}
