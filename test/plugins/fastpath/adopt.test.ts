/** adopt.ts: what a Proxy that takes over reads back as its own fast paths from what the hosts answered. */
import { describe, expect, it } from 'vitest';
import { adoptFastPaths, type HostFastPaths } from '../../../plugins/fastpath/adopt.js';
import type { LinkStatus } from '../../../switch/link/link-manager.js';
import type { RuleView } from '../../../switch/overlay/primitives.js';

const OWNER = 'proxy:fastpath';
const link = (name: string, state: string, owner = OWNER) => ({ name, state, owner }) as unknown as LinkStatus & { owner: string };
const rule = (id: number, src: string, dst: string, target: string, owner = OWNER) => ({ id, src, dst, target, owner, priority: 0, hitFrames: 0 }) as unknown as RuleView;
const adopt = (hosts: HostFastPaths[]) => adoptFastPaths(hosts, { owner: OWNER, linkPrefix: 'fp-', nowMs: 5 });

describe('adoptFastPaths', () => {
  it('one link per host pair from both ends, its VM pairs from the rules on either end, and where each VM lives', () => {
    const a = adopt([
      { host: 'h2', links: [link('fp-h1', 'up'), link('p1', 'up', 'config')], rules: [rule(7, 'm2', 'm1', 'fp-h1'), rule(8, 'any', 'none', 'p1', 'star')] },
      { host: 'h1', links: [link('fp-h2', 'up'), link('fp-h3', 'connecting')], rules: [rule(3, 'm1', 'm2', 'fp-h2'), rule(4, 'm1', 'm9', 'fp-h9')] },
    ]);
    expect([...a.links.keys()]).toEqual(['h1 h2', 'h1 h3']);
    expect(a.links.get('h1 h2')).toEqual({ a: 'h1', b: 'h2', up: true, vmPairs: new Map([['m1 m2', { macA: 'm1', macB: 'm2', lastSeenMs: 5 }]]) });
    // h3 did not answer (or has no end): not up; the plugin's watch judges it as any link of its own.
    expect(a.links.get('h1 h3')).toMatchObject({ up: false, vmPairs: new Map() });
    expect(a.rules).toEqual([
      { pairKey: 'h1 h2', host: 'h2', peer: 'h1', src: 'm2', dst: 'm1', id: 7 },
      { pairKey: 'h1 h2', host: 'h1', peer: 'h2', src: 'm1', dst: 'm2', id: 3 },
    ]);
    expect(Object.fromEntries(a.macs)).toEqual({ m1: 'h1', m2: 'h2' });
  });

  it('takes nothing of other owners', () => {
    const a = adopt([{ host: 'h1', links: [link('fp-h2', 'up', 'api')], rules: [rule(1, 'm1', 'm2', 'fp-h2', 'api')] }]);
    expect(a.links.size + a.rules.length + a.macs.size).toBe(0);
  });
});
