/**
 * The replay window's behaviour, shared by every implementation (the Hono common.case idea): the pure
 * ReplayFilter (unit) and the addon's keypair slot window (test/e2e/native-offload-slots.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ReplayWindow } from '../../switch/link/noise/keypair.js';
import { REPLAY_WINDOW_SIZE } from '../../switch/link/noise/replay.js';

export function runReplaySuite(name: string, create: () => ReplayWindow): void {
  describe(`${name} (sliding window, 8192-bit ring)`, () => {
    it('accepts counter 0 once', () => {
      const f = create();
      expect(f.validate(0, 0)).toBe('ok');
      expect(f.validate(0, 0)).toBe('replayed-counter');
    });

    it('rejects reuse and accepts out-of-order counters within the window', () => {
      const f = create();
      expect(f.validate(10, 0)).toBe('ok');
      expect(f.validate(5, 0)).toBe('ok');
      expect(f.validate(5, 0)).toBe('replayed-counter');
      expect(f.validate(10, 0)).toBe('replayed-counter');
      expect(f.validate(11, 0)).toBe('ok');
    });

    it('shifts far ahead, clearing the ring', () => {
      const f = create();
      for (let i = 0; i < 100; i++) expect(f.validate(i, 0)).toBe('ok');
      expect(f.validate(1_000_000, 0)).toBe('ok');
      expect(f.validate(1_000_000 - REPLAY_WINDOW_SIZE + 1, 0)).toBe('ok'); // oldest still in window
      expect(f.validate(1_000_000 - REPLAY_WINDOW_SIZE, 0)).toBe('out-of-window'); // exactly window size behind
      expect(f.validate(99, 0)).toBe('out-of-window');
    });

    it('window edges after a one-block step', () => {
      const f = create();
      const top = REPLAY_WINDOW_SIZE + 40;
      expect(f.validate(top, 0)).toBe('ok');
      expect(f.validate(top - REPLAY_WINDOW_SIZE, 0)).toBe('out-of-window');
      expect(f.validate(top - REPLAY_WINDOW_SIZE + 1, 0)).toBe('ok');
      expect(f.validate(top - REPLAY_WINDOW_SIZE + 1, 0)).toBe('replayed-counter');
      expect(f.validate(top - 1, 0)).toBe('ok');
      // every counter of the window once, in reverse: all accepted exactly once
      const g = create();
      expect(g.validate(top, 0)).toBe('ok');
      let accepted = 0;
      for (let c = top - 1; c > top - REPLAY_WINDOW_SIZE; c--) if (g.validate(c, 0) === 'ok') accepted++;
      expect(accepted).toBe(REPLAY_WINDOW_SIZE - 1);
    });

    it('is exact across the 32-bit boundary and enforces Reject-After-Messages', () => {
      const f = create();
      expect(f.validate(0xffff_fff0, 0)).toBe('ok');
      expect(f.validate(5, 1)).toBe('ok'); // 2^32 + 5
      expect(f.validate(0xffff_fff8, 0)).toBe('ok'); // 13 behind, in window
      expect(f.validate(5, 1)).toBe('replayed-counter');
      expect(f.validate(0xffff_fff0, 0)).toBe('replayed-counter');
      expect(f.validate(0, 3)).toBe('ok');
      expect(f.validate(0xffff_fff8, 0)).toBe('out-of-window');
      // 2^64 − 2^13 − 1 and above are refused; one below is fine.
      expect(f.validate(0xffff_dffe, 0xffff_ffff)).toBe('ok');
      expect(f.validate(0xffff_dfff, 0xffff_ffff)).toBe('counter-limit');
      expect(f.validate(0xffff_ffff, 0xffff_ffff)).toBe('counter-limit');
    });
  });
}
