import { describe, expect, it } from 'vitest';
import { MacTable } from '../../../switch/learning/mac-table.js';
import { testMac } from '../../support/frames.js';

const M1 = testMac(1);
const M2 = testMac(2);

describe('MacTable', () => {
  it('learns, refreshes and looks up', () => {
    const table = new MacTable();
    expect(table.lookup(M1, 0)).toBeUndefined();
    expect(table.learn(M1, 3, 0)).toBe('new');
    expect(table.learn(M1, 3, 10)).toBe('refresh');
    expect(table.lookup(M1, 20)).toBe(3);
    expect(table.stats()).toMatchObject({ size: 1, totalLearned: 1, totalMoved: 0 });
  });

  it('detects moves and counts them', () => {
    const table = new MacTable();
    table.learn(M1, 1, 0);
    expect(table.learn(M1, 2, 5)).toBe('moved');
    expect(table.lookup(M1, 6)).toBe(2);
    expect(table.countOnPort(1)).toBe(0);
    expect(table.countOnPort(2)).toBe(1);
    expect(table.stats()).toMatchObject({ totalLearned: 1, totalMoved: 1, size: 1 });
  });

  it('says the port a moved MAC came from (lastMovedFrom), without a result object', () => {
    const table = new MacTable();
    expect(table.lastMovedFrom).toBe(-1);
    table.learn(M1, 4, 0);
    table.learn(M2, 5, 0);
    expect(table.learn(M1, 7, 1)).toBe('moved');
    expect(table.lastMovedFrom).toBe(4);
    expect(table.learn(M2, 7, 2)).toBe('moved');
    expect(table.lastMovedFrom).toBe(5);
    expect(table.learn(M1, 4, 3)).toBe('moved');
    expect(table.lastMovedFrom).toBe(7);
  });

  describe('aging', () => {
    it('an entry idle for idleTimeMs misses on lookup (and is dropped)', () => {
      const table = new MacTable({ idleTimeMs: 1000 });
      table.learn(M1, 1, 0);
      expect(table.lookup(M1, 999)).toBe(1);
      expect(table.lookup(M1, 1000)).toBeUndefined();
      expect(table.stats()).toMatchObject({ size: 0, totalExpired: 1 });
    });

    it('refresh restarts the idle clock', () => {
      const table = new MacTable({ idleTimeMs: 1000 });
      table.learn(M1, 1, 0);
      table.learn(M1, 1, 900);
      expect(table.lookup(M1, 1800)).toBe(1);
    });

    it('expire sweeps only dead entries, oldest first, and counts them', () => {
      const table = new MacTable({ idleTimeMs: 1000 });
      table.learn(M1, 1, 0);
      table.learn(M2, 1, 500);
      table.learn(testMac(3), 2, 100);
      table.learn(M1, 1, 600); // refreshed: now the youngest on port 1
      expect(table.expire(1100)).toBe(1); // testMac(3) only
      expect(table.expire(1550)).toBe(1); // M2
      expect(table.lookup(M1, 1550)).toBe(1);
      expect(table.expire(1600)).toBe(1);
      expect(table.stats()).toMatchObject({ size: 0, totalExpired: 3 });
    });

    it('a dead entry learned again is new (expired + learned)', () => {
      const table = new MacTable({ idleTimeMs: 1000 });
      table.learn(M1, 1, 0);
      expect(table.learn(M1, 2, 5000)).toBe('new');
      expect(table.stats()).toMatchObject({ totalLearned: 2, totalExpired: 1, totalMoved: 0, size: 1 });
    });
  });

  describe('max entries with fair per-port eviction', () => {
    it('evicts from the port with the most entries, its least recently seen first', () => {
      const table = new MacTable({ maxEntries: 6 });
      table.learn(testMac(100), 1, 0); // port 1: a quiet VM
      table.learn(testMac(101), 2, 1); // port 2: another
      for (let i = 0; i < 4; i++) table.learn(testMac(i), 9, 10 + i); // port 9: the flooder
      table.learn(testMac(0), 9, 20); // refresh: testMac(1) is now port 9's LRU
      expect(table.learn(testMac(500), 9, 30)).toBe('new');
      expect(table.size).toBe(6);
      expect(table.lookup(testMac(1), 31)).toBeUndefined();
      expect(table.lookup(testMac(0), 31)).toBe(9);
      expect(table.stats().totalEvicted).toBe(1);
    });

    it('a MAC flood from one port never evicts the other ports', () => {
      const table = new MacTable({ maxEntries: 100 });
      for (let port = 0; port < 10; port++) for (let i = 0; i < 5; i++) table.learn(testMac(port * 100 + i), port, 0);
      for (let i = 0; i < 10_000; i++) table.learn(testMac(20_000 + i), 99, 1 + i);
      for (let port = 0; port < 10; port++) expect(table.countOnPort(port)).toBe(5);
      expect(table.countOnPort(99)).toBe(50);
      expect(table.size).toBe(100);
      expect(table.stats().totalEvicted).toBe(10_000 - 50);
    });

    it('a port learning into a full table when it is not the fullest evicts from the fullest', () => {
      const table = new MacTable({ maxEntries: 4 });
      table.learn(testMac(1), 1, 0);
      table.learn(testMac(2), 1, 1);
      table.learn(testMac(3), 1, 2);
      table.learn(testMac(4), 2, 3);
      table.learn(testMac(5), 2, 4);
      expect(table.countOnPort(1)).toBe(2);
      expect(table.countOnPort(2)).toBe(2);
      expect(table.lookup(testMac(1), 5)).toBeUndefined();
      // Tie (2 and 2): the lower port id gives one up.
      table.learn(testMac(6), 3, 6);
      expect(table.countOnPort(1)).toBe(1);
      expect(table.lookup(testMac(2), 7)).toBeUndefined();
    });
  });

  describe('static entries', () => {
    it('never age, are never evicted, and are not moved by learning', () => {
      const table = new MacTable({ idleTimeMs: 1000, maxEntries: 2 });
      table.addStatic(M1, 7);
      expect(table.learn(M1, 3, 0)).toBe('static');
      expect(table.lookup(M1, 1_000_000)).toBe(7);
      for (let i = 10; i < 20; i++) table.learn(testMac(i), 1, i);
      expect(table.lookup(M1, 30)).toBe(7);
      expect(table.expire(1_000_000)).toBe(2);
      expect(table.stats()).toMatchObject({ size: 1, staticEntries: 1 });
      expect(table.removeStatic(M1)).toBe(true);
      expect(table.lookup(M1, 0)).toBeUndefined();
    });

    it('replace a dynamic entry for the same MAC', () => {
      const table = new MacTable();
      table.learn(M1, 1, 0);
      table.addStatic(M1, 2);
      expect(table.lookup(M1, 1)).toBe(2);
      expect(table.countOnPort(1)).toBe(0);
      expect(table.entries()).toEqual([{ mac: M1, port: 2, isStatic: true, lastSeenMs: 0 }]);
    });
  });

  it('forgetPort drops what was learned on that port only', () => {
    const table = new MacTable();
    table.learn(M1, 1, 0);
    table.learn(M2, 1, 0);
    table.learn(testMac(3), 2, 0);
    table.addStatic(testMac(4), 1);
    expect(table.forgetPort(1)).toBe(2);
    expect(table.lookup(M1, 1)).toBeUndefined();
    expect(table.lookup(testMac(3), 1)).toBe(2);
    expect(table.lookup(testMac(4), 1)).toBe(1);
    expect(table.forgetPort(1)).toBe(0);
  });

  it('forget drops one dynamic entry', () => {
    const table = new MacTable();
    table.learn(M1, 1, 0);
    expect(table.forget(M1)).toBe(true);
    expect(table.forget(M1)).toBe(false);
    expect(table.size).toBe(0);
  });

  it('rejects unusable options with mac-table-options', () => {
    expect(() => new MacTable({ maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'mac-table-options', option: 'maxEntries' }),
    );
    expect(() => new MacTable({ idleTimeMs: 0 })).toThrow(
      expect.objectContaining({ code: 'mac-table-options', option: 'idleTimeMs' }),
    );
  });
});
