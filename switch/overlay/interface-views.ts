import type { Datapath } from '../datapath.js';
import type { InterfaceView } from './primitives.js';

/** Every port and link of the datapath with its counters (the status view and the list-interfaces primitive). */
export function interfaceViews(datapath: Datapath): InterfaceView[] {
  return datapath.ports().map((p) => {
    const c = datapath.core.portStats(p.id);
    return {
      name: p.port.name,
      kind: p.port.kind,
      state: p.state,
      ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      rxFrames: c.rxFrames,
      rxBytes: c.rxBytes,
      txFrames: c.txFrames,
      txBytes: c.txBytes,
      // The core's drops by reason, and what the port dropped before the core saw it (a refused virtio-net header).
      drops: { ...c.drops, ...p.port.drops?.() },
    };
  });
}
