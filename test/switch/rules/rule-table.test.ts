import { describe, expect, it } from 'vitest';
import { RuleTable } from '../../../switch/rules/rule-table.js';
import { matchKindOf } from '../../../switch/rules/rule.js';
import { mac } from '../../support/frames.js';

const A = mac('02:00:00:00:00:0a');
const B = mac('02:00:00:00:00:0b');
const C = mac('02:00:00:00:00:0c');

function targetOf(table: RuleTable, src: number, dst: number): string | undefined {
  return table.lookup(src, dst)?.target;
}

describe('RuleTable', () => {
  it('assigns increasing ids and lists oldest first', () => {
    const table = new RuleTable();
    const r1 = table.insert({ src: A, dst: B, target: 'p1' });
    const r2 = table.insert({ src: 'any', dst: 'none', target: 'proxy', owner: 'config' });
    expect(r2.id).toBeGreaterThan(r1.id);
    expect(table.list()).toEqual([r1, r2]);
    expect(table.size).toBe(2);
    expect(r2).toEqual({ id: r2.id, src: 'any', dst: 'none', target: 'proxy', owner: 'config' });
    expect(Object.isFrozen(r1)).toBe(true);
  });

  it.each([
    ['exact-exact', A, B],
    ['any-exact', 'any', B],
    ['exact-any', A, 'any'],
    ['any-any', 'any', 'any'],
    ['exact-none', A, 'none'],
    ['any-none', 'any', 'none'],
  ] as const)('matches kind %s only where it should', (kind, src, dst) => {
    const table = new RuleTable();
    const rule = table.insert({ src, dst, target: 't' });
    expect(matchKindOf(rule)).toBe(kind);
    expect(table.lookup(A, B)).toBe(rule);
    // A different source misses when src is exact; a different destination misses when dst is exact.
    expect(table.lookup(C, B)).toBe(src === 'any' ? rule : undefined);
    expect(table.lookup(A, C)).toBe(dst === B ? undefined : rule);
  });

  it('orders kinds: exact-exact > any-exact > exact-any > any-any > exact-none > any-none', () => {
    const table = new RuleTable();
    // Inserted weakest first so that id order would give the opposite answer.
    const ids = [
      table.insert({ src: 'any', dst: 'none', target: 'any-none' }),
      table.insert({ src: A, dst: 'none', target: 'exact-none' }),
      table.insert({ src: 'any', dst: 'any', target: 'any-any' }),
      table.insert({ src: A, dst: 'any', target: 'exact-any' }),
      table.insert({ src: 'any', dst: B, target: 'any-exact' }),
      table.insert({ src: A, dst: B, target: 'exact-exact' }),
    ].map((rule) => rule.id);
    const seen: string[] = [];
    for (const id of [...ids].reverse()) {
      seen.push(targetOf(table, A, B)!);
      table.remove(id);
    }
    expect(seen).toEqual(['exact-exact', 'any-exact', 'exact-any', 'any-any', 'exact-none', 'any-none']);
    expect(table.lookup(A, B)).toBeUndefined();
  });

  it('destination-exact beats source-exact', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: 'any', target: 'by-source' });
    table.insert({ src: 'any', dst: B, target: 'by-destination' });
    expect(targetOf(table, A, B)).toBe('by-destination');
  });

  it('an explicit priority overrides kind strength across kinds', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: B, target: 'exact' });
    table.insert({ src: 'any', dst: 'any', target: 'catch-all', priority: 1 });
    expect(targetOf(table, A, B)).toBe('catch-all');
    table.insert({ src: A, dst: B, target: 'exact-high', priority: 2 });
    expect(targetOf(table, A, B)).toBe('exact-high');
  });

  it('negative priorities rank below unprioritised rules of weaker kinds', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: B, target: 'demoted', priority: -1 });
    table.insert({ src: 'any', dst: 'any', target: 'catch-all' });
    expect(targetOf(table, A, B)).toBe('catch-all');
  });

  it('equal priority across kinds: the stronger kind wins (not the older rule)', () => {
    const table = new RuleTable();
    table.insert({ src: 'any', dst: 'any', target: 'old-weak', priority: 5 });
    table.insert({ src: A, dst: 'any', target: 'new-strong', priority: 5 });
    expect(targetOf(table, A, B)).toBe('new-strong');
  });

  it('same match, different priorities: both kept, higher wins, removal falls back', () => {
    const table = new RuleTable();
    const low = table.insert({ src: A, dst: B, target: 'low', priority: 1 });
    const high = table.insert({ src: A, dst: B, target: 'high', priority: 9 });
    const mid = table.insert({ src: A, dst: B, target: 'mid', priority: 5 });
    expect(targetOf(table, A, B)).toBe('high');
    table.remove(high.id);
    expect(targetOf(table, A, B)).toBe('mid');
    table.remove(mid.id);
    expect(table.lookup(A, B)).toBe(low);
  });

  it('default rules (dst none) rank below every non-default rule, whatever their priority', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: 'none', target: 'default', priority: 1000 });
    table.insert({ src: 'any', dst: 'any', target: 'any-any', priority: -1000 });
    expect(targetOf(table, A, B)).toBe('any-any');
    expect(table.matchDefault(A)?.rule.target).toBe('default');
  });

  it('the default rule matches whenever the source matches, any destination', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: 'none', target: 'proxy' });
    expect(targetOf(table, A, B)).toBe('proxy');
    expect(targetOf(table, A, C)).toBe('proxy');
    expect(targetOf(table, B, A)).toBeUndefined();
    expect(table.matchExplicit(A, B)).toBeUndefined();
  });

  it('refuses the same match at the same priority: rule-conflict', () => {
    const table = new RuleTable();
    const first = table.insert({ src: A, dst: 'none', target: 'x' });
    expect(() => table.insert({ src: A, dst: 'none', target: 'y' })).toThrow(
      expect.objectContaining({ code: 'rule-conflict', name: 'RuleConflictError', existingId: first.id }),
    );
    expect(() => table.insert({ src: A, dst: 'none', target: 'y', priority: 0 })).toThrow(
      expect.objectContaining({ code: 'rule-conflict' }),
    );
    expect(table.insert({ src: A, dst: 'none', target: 'y', priority: 1 }).target).toBe('y');
    expect(table.size).toBe(2);
  });

  it.each([
    [{ src: -1, dst: B, target: 't' }, 'src'],
    [{ src: A, dst: 2 ** 48, target: 't' }, 'dst'],
    [{ src: A, dst: B, target: '' }, 'target'],
    [{ src: A, dst: B, target: 't', priority: 1.5 }, 'priority'],
  ])('refuses a malformed spec: rule-invalid (%j)', (spec, field) => {
    const table = new RuleTable();
    expect(() => table.insert(spec)).toThrow(expect.objectContaining({ code: 'rule-invalid', field }));
    expect(table.size).toBe(0);
  });

  it('replace displaces the rule with the same match and priority', () => {
    const table = new RuleTable();
    const old = table.insert({ src: 'any', dst: B, target: 'slow' });
    const { rule, replaced } = table.replace({ src: 'any', dst: B, target: 'fast' });
    expect(replaced).toBe(old);
    expect(rule.id).toBeGreaterThan(old.id);
    expect(table.size).toBe(1);
    expect(targetOf(table, A, B)).toBe('fast');
    expect(table.replace({ src: 'any', dst: B, target: 'other', priority: 3 }).replaced).toBeUndefined();
  });

  it('remove returns false for unknown ids; removeOwnedBy withdraws one owner', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: B, target: 'l1', owner: 'fastpath' });
    table.insert({ src: B, dst: A, target: 'l1', owner: 'fastpath' });
    const kept = table.insert({ src: 'any', dst: 'none', target: 'proxy', owner: 'config' });
    expect(table.remove(999)).toBe(false);
    expect(table.removeOwnedBy('fastpath')).toBe(2);
    expect(table.list()).toEqual([kept]);
  });

  it('find locates a rule exactly (match and priority)', () => {
    const table = new RuleTable();
    const rule = table.insert({ src: A, dst: 'any', target: 't', priority: 4 });
    expect(table.find(A, 'any', 4)).toBe(rule);
    expect(table.find(A, 'any')).toBeUndefined();
    expect(table.find(B, 'any', 4)).toBeUndefined();
  });

  it('isUsable skips rules as if absent, falling to the next best', () => {
    const table = new RuleTable();
    table.insert({ src: A, dst: B, target: 'missing' });
    table.insert({ src: A, dst: B, target: 'missing-too', priority: -1 });
    table.insert({ src: 'any', dst: B, target: 'present' });
    const entry = table.match(A, B, (e) => e.rule.target === 'present');
    expect(entry?.rule.target).toBe('present');
    expect(table.match(A, B, () => false)).toBeUndefined();
  });

  it('keeps per-rule counters and bumps version on every change', () => {
    const table = new RuleTable();
    const v0 = table.version;
    const rule = table.insert({ src: A, dst: B, target: 't' });
    expect(table.version).toBeGreaterThan(v0);
    const entry = table.match(A, B)!;
    entry.hitFrames++;
    entry.hitBytes += 60;
    expect(table.statsOf(rule.id)).toEqual({ id: rule.id, hitFrames: 1, hitBytes: 60 });
    expect(table.stats()).toEqual([{ id: rule.id, hitFrames: 1, hitBytes: 60 }]);
    expect(() => table.statsOf(12345)).toThrow(expect.objectContaining({ code: 'rule-not-found' }));
  });
});

describe('RuleTable restore (durable state)', () => {
  it('re-inserts saved rules under their own ids; later inserts and reserved ids never give an id twice', () => {
    const table = new RuleTable();
    table.reserveIdsBelow(20);
    const star = table.insert({ src: 'any', dst: 'none', target: 'proxy', owner: 'star' });
    expect(star.id).toBe(20);
    table.restore({ id: 7, src: A, dst: B, target: 'x1', priority: 3, owner: 'ops' });
    table.restore({ id: 25, src: 'any', dst: C, target: 'x1', owner: 'ops' });
    expect(table.lookup(A, B)).toMatchObject({ id: 7, target: 'x1', priority: 3 });
    expect(table.insert({ src: B, dst: 'any', target: 'x2' }).id).toBe(26);
    expect(table.nextRuleId).toBe(27);
    table.reserveIdsBelow(5); // never backwards
    expect(table.nextRuleId).toBe(27);
  });

  it('refuses a taken id, a bad id, and the match and priority of an existing rule', () => {
    const table = new RuleTable();
    table.restore({ id: 3, src: A, dst: B, target: 'x1' });
    expect(() => table.restore({ id: 3, src: B, dst: A, target: 'x1' })).toThrow(expect.objectContaining({ code: 'rule-invalid', field: 'id' }));
    expect(() => table.restore({ id: 0, src: B, dst: A, target: 'x1' })).toThrow(expect.objectContaining({ code: 'rule-invalid', field: 'id' }));
    expect(() => table.restore({ id: 4, src: A, dst: B, target: 'x2' })).toThrow(expect.objectContaining({ code: 'rule-conflict' }));
    expect(table.size).toBe(1);
  });
});
