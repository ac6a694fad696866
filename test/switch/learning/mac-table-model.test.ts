/**
 * Seeded random learn/lookup/expire/forget sequences run through MacTable and
 * through a plain-Map model of the documented behaviour (aging, moves, fair
 * per-port LRU eviction); results, entries and counters must agree.
 */
import { describe, expect, it } from 'vitest';
import { MacTable } from '../../../switch/learning/mac-table.js';
import { testMac } from '../../support/frames.js';
import { seededRandom } from '../../../scripts/lib/seeded-random.js';

interface ModelEntry { port: number; lastSeenMs: number; seq: number }

class ModelTable {
  readonly entries = new Map<number, ModelEntry>();
  counters = { learned: 0, expired: 0, evicted: 0, moved: 0 };
  private seq = 0;
  constructor(readonly idleTimeMs: number, readonly maxEntries: number) {}
  private isDead(e: ModelEntry, nowMs: number) { return nowMs - e.lastSeenMs >= this.idleTimeMs; }
  learn(mac: number, port: number, nowMs: number): string {
    const e = this.entries.get(mac);
    if (e && !this.isDead(e, nowMs)) {
      const result = e.port === port ? 'refresh' : 'moved';
      if (result === 'moved') this.counters.moved++;
      Object.assign(e, { port, lastSeenMs: nowMs, seq: ++this.seq });
      return result;
    }
    if (e) { this.entries.delete(mac); this.counters.expired++; }
    if (this.entries.size >= this.maxEntries) {
      const counts = new Map<number, number>();
      for (const x of this.entries.values()) counts.set(x.port, (counts.get(x.port) ?? 0) + 1);
      const fullest = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
      const victim = [...this.entries].filter(([, x]) => x.port === fullest).sort((a, b) => a[1].seq - b[1].seq)[0]![0];
      this.entries.delete(victim);
      this.counters.evicted++;
    }
    this.entries.set(mac, { port, lastSeenMs: nowMs, seq: ++this.seq });
    this.counters.learned++;
    return 'new';
  }
  lookup(mac: number, nowMs: number): number | undefined {
    const e = this.entries.get(mac);
    if (e && this.isDead(e, nowMs)) { this.entries.delete(mac); this.counters.expired++; return undefined; }
    return e?.port;
  }
  expire(nowMs: number): number {
    let n = 0;
    for (const [mac, e] of this.entries) if (this.isDead(e, nowMs)) { this.entries.delete(mac); n++; }
    this.counters.expired += n;
    return n;
  }
  forgetPort(port: number): number {
    let n = 0;
    for (const [mac, e] of this.entries) if (e.port === port) { this.entries.delete(mac); n++; }
    return n;
  }
}

describe('MacTable vs model', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agrees on a random sequence (seed ${seed})`, () => {
      const random = seededRandom(seed);
      const idleTimeMs = 1000;
      const maxEntries = 4 + seed * 3;
      const table = new MacTable({ idleTimeMs, maxEntries });
      const model = new ModelTable(idleTimeMs, maxEntries);
      const macs = Array.from({ length: 40 }, (_, i) => testMac(i));
      let nowMs = 0;
      for (let step = 0; step < 4000; step++) {
        nowMs += Math.floor(random() * 60);
        const mac = macs[Math.floor(random() * (random() < 0.7 ? 12 : macs.length))]!;
        const port = Math.floor(random() * random() * 6);
        const action = random();
        if (action < 0.6) expect(table.learn(mac, port, nowMs)).toBe(model.learn(mac, port, nowMs));
        else if (action < 0.9) expect(table.lookup(mac, nowMs)).toBe(model.lookup(mac, nowMs));
        else if (action < 0.98) expect(table.expire(nowMs)).toBe(model.expire(nowMs));
        else expect(table.forgetPort(port)).toBe(model.forgetPort(port));
        expect(table.size).toBe(model.entries.size);
      }
      const stats = table.stats();
      expect([stats.totalLearned, stats.totalExpired, stats.totalEvicted, stats.totalMoved]).toEqual([
        model.counters.learned, model.counters.expired, model.counters.evicted, model.counters.moved,
      ]);
      expect(stats.totalEvicted).toBeGreaterThan(0);
      expect(new Map(table.entries().map((e) => [e.mac, [e.port, e.lastSeenMs]]))).toEqual(
        new Map([...model.entries].map(([mac, e]) => [mac, [e.port, e.lastSeenMs]])),
      );
    });
  }
});
