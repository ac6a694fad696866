/**
 * Hole punching for fast paths (issue 19): the fast-path plugin's record of the host pairs whose fast link crosses a
 * NAT, pure (times are arguments). How a punch happens is not here: the plugin adds the link on both ends at once,
 * each given the other's observed endpoint (switch/overlay/nat-kind.ts), and both ends initiate WireGuard handshakes
 * (LinkManager.connectPeer: the lower key at once, the other 400 ms later unless a handshake completed). The first
 * initiation opens its sender's NAT toward the peer and dies at the peer's NAT; the second finds that pinhole open,
 * and its answer opens the other. The 1 s persistent keepalive of a fast link then holds both pinholes (conntrack
 * forgets an unreplied UDP mapping after 30 s, an assured one after 120 s).
 *
 * This book says when a punch has failed (no handshake within PUNCH_TIMEOUT_MS), and how long the pair then stays
 * on the star: the plugin's backoff, doubled per failure in a row up to MAX_BACKOFF_FACTOR times (two hosts behind
 * port-changing NATs never meet without port prediction, which vswitch does not do; trying every 30 s would be noise).
 */
import type { NatKind } from '../../switch/overlay/nat-kind.js';

/** A fast link through a NAT with no handshake this long after both ends were added has failed to punch. */
export const PUNCH_TIMEOUT_MS = 5000;
/** A pair's backoff after failures in a row: the base, doubled per failure, at most this many times the base. */
export const MAX_BACKOFF_FACTOR = 16;

export type PunchState = 'punching' | 'direct' | 'punch-failed';

export interface PunchView {
  a: string;
  b: string;
  natA: NatKind;
  natB: NatKind;
  state: PunchState;
  attempts: number;
  /** Failed attempts in a row (0 once one succeeds). */
  failures: number;
  lastTimeToDirectMs?: number;
  retryAtMs?: number;
}

export class PunchBook {
  readonly #pairs = new Map<string, PunchView>();

  /** A punch starts: the link was added on both ends. */
  begin(key: string, a: string, b: string, natA: NatKind, natB: NatKind): void {
    const before = this.#pairs.get(key);
    const { lastTimeToDirectMs } = before ?? {};
    this.#pairs.set(key, {
      a,
      b,
      natA,
      natB,
      state: 'punching',
      attempts: (before?.attempts ?? 0) + 1,
      failures: before?.failures ?? 0,
      ...(lastTimeToDirectMs === undefined ? {} : { lastTimeToDirectMs }),
    });
  }

  isPunching(key: string): boolean {
    return this.#pairs.get(key)?.state === 'punching';
  }

  /** Both ends are up `afterMs` after the link was added. */
  succeeded(key: string, afterMs: number): PunchView | undefined {
    const p = this.#pairs.get(key);
    if (p === undefined) return undefined;
    const { retryAtMs: _, ...rest } = p;
    const next: PunchView = { ...rest, state: 'direct', failures: 0, lastTimeToDirectMs: afterMs };
    this.#pairs.set(key, next);
    return next;
  }

  /** No handshake in time: the pair's backoff (the base doubled per failure in a row, capped), and its view. */
  failed(key: string, nowMs: number, baseBackoffMs: number): { backoffMs: number; view: PunchView } | undefined {
    const p = this.#pairs.get(key);
    if (p === undefined) return undefined;
    const failures = p.failures + 1;
    const backoffMs = baseBackoffMs * Math.min(MAX_BACKOFF_FACTOR, 2 ** (failures - 1));
    const view: PunchView = { ...p, state: 'punch-failed', failures, retryAtMs: nowMs + backoffMs };
    this.#pairs.set(key, view);
    return { backoffMs, view };
  }

  /** The pair no longer wants a fast path (its link was removed on purpose): forgotten, backoff and all. */
  forget(key: string): void {
    if (this.#pairs.get(key)?.state !== 'punch-failed') this.#pairs.delete(key);
  }

  list(): PunchView[] {
    return [...this.#pairs.values()].map((p) => ({ ...p }));
  }
}
