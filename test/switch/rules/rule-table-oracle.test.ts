/**
 * ORACLE test (OVS tests/test-classifier.c `tcls`, wireguard-go SlowRouter):
 * seeded random rules, inserts and removals, and lookups compared against a
 * linear scan that states the priority order in the most obvious way.
 */
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../switch/frame/mac.js';
import { RuleTable } from '../../../switch/rules/rule-table.js';
import { MATCH_KIND_STRENGTH, matchKindOf, type Rule } from '../../../switch/rules/rule.js';
import { seededRandom } from '../../../scripts/lib/seeded-random.js';

/** The trivial classifier: scan everything, keep the best by the documented order. */
function linearLookup(rules: readonly Rule[], src: Mac, dst: Mac, isUsable: (rule: Rule) => boolean): Rule | undefined {
  let best: Rule | undefined;
  const rank = (rule: Rule): [number, number, number, number] => [
    rule.dst === 'none' ? 0 : 1,
    rule.priority ?? 0,
    MATCH_KIND_STRENGTH[matchKindOf(rule)],
    -rule.id,
  ];
  for (const rule of rules) {
    const srcMatches = rule.src === 'any' || rule.src === src;
    const dstMatches = rule.dst === 'any' || rule.dst === 'none' || rule.dst === dst;
    if (!srcMatches || !dstMatches || !isUsable(rule)) continue;
    if (best === undefined) { best = rule; continue; }
    const [a, b] = [rank(rule), rank(best)];
    const cmp = a.findIndex((value, i) => value !== b[i]);
    if (cmp >= 0 && a[cmp]! > b[cmp]!) best = rule;
  }
  return best;
}

describe('RuleTable vs linear-scan oracle', () => {
  for (const { seed, macs, priorities } of [
    { seed: 1, macs: 4, priorities: [0] },
    { seed: 2, macs: 6, priorities: [0, 0, 0, 1, -1] },
    { seed: 3, macs: 12, priorities: [-2, -1, 0, 1, 2, 3] },
    { seed: 4, macs: 3, priorities: [0, 5] },
  ]) {
    it(`agrees on every lookup (seed ${seed}, ${macs} MACs, priorities ${priorities.join(',')})`, () => {
      const random = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const pool: Mac[] = Array.from({ length: macs }, (_, i) => 0x020000000000 + i * 0x0101 + (i % 2) * 2 ** 40);
      const targets = ['t0', 't1', 't2', 'gone'];
      const table = new RuleTable();
      const live: Rule[] = [];
      let conflicts = 0;
      let lookups = 0;

      for (let step = 0; step < 3000; step++) {
        const action = random();
        if (action < 0.35) {
          const spec = {
            src: random() < 0.4 ? ('any' as const) : pick(pool),
            dst: pick<Mac | 'any' | 'none'>(['any', 'none', ...pool]),
            target: pick(targets),
            ...(random() < 0.5 ? { priority: pick(priorities) } : {}),
          };
          const clash = live.some(
            (r) => r.src === spec.src && r.dst === spec.dst && (r.priority ?? 0) === (spec.priority ?? 0),
          );
          if (clash) {
            expect(() => table.insert(spec)).toThrow(expect.objectContaining({ code: 'rule-conflict' }));
            conflicts++;
          } else {
            live.push(table.insert(spec));
          }
        } else if (action < 0.5 && live.length > 0) {
          const victim = live.splice(Math.floor(random() * live.length), 1)[0]!;
          expect(table.remove(victim.id)).toBe(true);
        } else {
          const src = pick(pool);
          const dst = pick(pool);
          expect(table.lookup(src, dst)).toBe(linearLookup(live, src, dst, () => true));
          const usable = (rule: Rule) => rule.target !== 'gone';
          expect(table.match(src, dst, (entry) => usable(entry.rule))?.rule).toBe(linearLookup(live, src, dst, usable));
          lookups++;
        }
        expect(table.size).toBe(live.length);
      }
      expect(lookups).toBeGreaterThan(1000);
      expect(table.list()).toEqual([...live].sort((a, b) => a.id - b.id));
      // Conflicts occur in the dense configurations; the sparse ones still exercise the path elsewhere.
      if (macs <= 4) expect(conflicts).toBeGreaterThan(0);
    });
  }
});
