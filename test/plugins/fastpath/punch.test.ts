/** The punch book: attempts counted, a success clears the failures, each failure in a row doubles the backoff up to 16×. */
import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_FACTOR, PunchBook } from '../../../plugins/fastpath/punch.js';

describe('PunchBook', () => {
  it('doubles the backoff per failure in a row, capped, and a success resets it', () => {
    const book = new PunchBook();
    const backoffs: number[] = [];
    for (let i = 0; i < 7; i++) {
      book.begin('h4 h5', 'h4', 'h5', 'port-changing', 'port-changing');
      expect(book.isPunching('h4 h5')).toBe(true);
      backoffs.push(book.failed('h4 h5', 1000 * i, 30_000)!.backoffMs);
    }
    expect(backoffs).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 30_000 * MAX_BACKOFF_FACTOR, 30_000 * MAX_BACKOFF_FACTOR]);
    expect(book.list()).toEqual([{ a: 'h4', b: 'h5', natA: 'port-changing', natB: 'port-changing', state: 'punch-failed', attempts: 7, failures: 7, retryAtMs: 6000 + 480_000 }]);

    book.begin('h4 h5', 'h4', 'h5', 'port-changing', 'port-changing');
    expect(book.succeeded('h4 h5', 812)).toEqual({ a: 'h4', b: 'h5', natA: 'port-changing', natB: 'port-changing', state: 'direct', attempts: 8, failures: 0, lastTimeToDirectMs: 812 });
    book.begin('h4 h5', 'h4', 'h5', 'port-changing', 'port-changing');
    expect(book.failed('h4 h5', 0, 30_000)!.backoffMs).toBe(30_000);
  });

  it('forgets a pair whose link went on purpose, but keeps a failed one (its backoff holds)', () => {
    const book = new PunchBook();
    book.begin('h2 h3', 'h2', 'h3', 'port-preserving', 'port-preserving');
    book.succeeded('h2 h3', 500);
    book.forget('h2 h3');
    expect(book.list()).toEqual([]);
    book.begin('h2 h4', 'h2', 'h4', 'port-preserving', 'port-changing');
    book.failed('h2 h4', 0, 1000);
    book.forget('h2 h4');
    expect(book.list().map((p) => p.state)).toEqual(['punch-failed']);
  });

  it('knows nothing of a pair that never began', () => {
    const book = new PunchBook();
    expect(book.succeeded('x y', 1)).toBeUndefined();
    expect(book.failed('x y', 1, 1)).toBeUndefined();
    expect(book.isPunching('x y')).toBe(false);
  });
});
