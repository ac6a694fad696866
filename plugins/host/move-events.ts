/**
 * VM moves as plugin events: the Proxy's `vm-moved` (at detection) and `vm-move-converged` (followed everywhere, or
 * not in time) become one plugin event type, `vm-moved`, whose `move.phase` tells them apart — so a policy that
 * re-pins a VM's pairs can act at detection, and one that measures can read the time.
 */
import type { VmMoveConvergedEvent, VmMovedEvent } from '../../switch/events.js';
import type { EventBody } from './registry.js';

export function moveEventBody(event: VmMovedEvent | VmMoveConvergedEvent): EventBody {
  const { mac, from, to } = event;
  if (event.type === 'vm-moved') return { type: 'vm-moved', move: { phase: 'detected', mac, from, to } };
  return {
    type: 'vm-moved',
    move: {
      phase: 'converged',
      mac,
      from,
      to,
      convergeMs: event.convergeMs,
      complete: event.complete,
      unacked: event.unacked === undefined ? [] : event.unacked.split(','),
    },
  };
}
