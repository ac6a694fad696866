/**
 * What the pipeline tells its caller to do with one frame. Decision objects
 * are shared and frozen (one output decision per port, one flood decision per
 * in-port, one drop decision per reason), so deciding allocates nothing. A
 * flood decision stays valid until the port set changes.
 */
import { FRAME_DROP_REASONS, type FrameDropReason } from '../frame/ethernet.js';

/**
 * Why the switch dropped a frame: the frame was malformed (FrameDropReason),
 * or the chosen exit is the port it came in on — by a rule ('hairpin') or by
 * learning ('same-port', the bridge filtering of 802.1D §8.7) — or the frame
 * came from a port the core does not know ('unknown-in-port'). Two more are
 * counted by the datapath, after the core decided: the exit the core chose is
 * down ('out-port-down': a rule toward a port whose device failed) or already
 * gone ('out-port-gone': deleted while the frame was on its way) — frames that
 * would otherwise vanish uncounted. The core itself never returns those two.
 */
export type DropReason = FrameDropReason | 'hairpin' | 'same-port' | 'unknown-in-port' | OutPortDropReason;

/** Drops of frames whose decided exit is unusable (Datapath; SwitchCore.countDrop). */
export type OutPortDropReason = 'out-port-down' | 'out-port-gone';

export const DROP_REASONS: readonly DropReason[] = [...FRAME_DROP_REASONS, 'hairpin', 'same-port', 'unknown-in-port', 'out-port-down', 'out-port-gone'];

export interface OutputDecision {
  readonly kind: 'output';
  readonly port: number;
}

export interface FloodDecision {
  readonly kind: 'flood';
  /** Every flooding port except the in-port, ascending ids. May be empty. */
  readonly ports: readonly number[];
}

export interface DropDecision {
  readonly kind: 'drop';
  readonly reason: DropReason;
}

export type Decision = OutputDecision | FloodDecision | DropDecision;

export const DROP_DECISIONS: Readonly<Record<DropReason, DropDecision>> = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((reason) => [reason, Object.freeze({ kind: 'drop', reason })])) as Record<
    DropReason,
    DropDecision
  >,
);

export function zeroDropCounts(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
}
