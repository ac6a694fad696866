/**
 * What the overlay's move followers (proxy-moves.ts on the Proxy, host-moves.ts on a host) see of their daemon: the
 * switch core (its MAC table, its port names, the onLearned hook) and which ports are links. And the one shape of a
 * move they hand on: the daemon gives it to its plugins, the events carry it.
 */
import type { SwitchCore } from '../pipeline/forward.js';
import type { MoveRefusal } from './move-limiter.js';

export interface MoveSite {
  readonly core: SwitchCore;
  /** The port is a link to a peer (else a VM port of this daemon: TAP, capture, memory). */
  isLinkPort(portId: number): boolean;
}

/** VM `mac` (colon form) moved from host `from` to host `to` (the Proxy's own name for its own ports). */
export interface VmMove {
  readonly mac: string;
  readonly from: string;
  readonly to: string;
}

/** What a daemon counts of moves: the Proxy's part first, then a host's (the other role's stay 0). */
export interface MoveStats {
  /** Proxy: moves announced (`vm-moved` raised). */
  detected: number;
  /** Proxy: moves every host acknowledged and the plugins followed (`vm-move-converged`, complete). */
  converged: number;
  /** Proxy: moves still not followed everywhere at the deadline. */
  incomplete: number;
  /** Proxy: moves not announced because a bound was reached (move-limiter.ts). */
  refused: Record<MoveRefusal, number>;
  /** Proxy: the last complete move's time from detection to convergence; null before any. */
  lastConvergeMs: number | null;
  /** Host: announcements from the Proxy acted on. */
  applied: number;
  /** Host: MAC entries forgotten because an announcement said the VM is elsewhere. */
  forgotten: number;
  /** Host: arrivals told to the Proxy (`mac-arrived`). */
  arrivalsSent: number;
  /** Host: arrivals not told because a bound was reached. */
  arrivalsSuppressed: number;
}

export function zeroMoveStats(): MoveStats {
  return {
    detected: 0,
    converged: 0,
    incomplete: 0,
    refused: { 'host-rate': 0, 'mac-rate': 0 },
    lastConvergeMs: null,
    applied: 0,
    forgotten: 0,
    arrivalsSent: 0,
    arrivalsSuppressed: 0,
  };
}
