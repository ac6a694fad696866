import { describe, expect, it } from 'vitest';
import { ProxyFollower } from '../../../switch/ha/proxy-follower.js';

describe('ProxyFollower', () => {
  it('follows the first Proxy until told otherwise', () => {
    const f = new ProxyFollower(['p1', 'p2']);
    expect(f.active).toBe('p1');
    expect(f.epoch).toBe(0);
  });

  it('follows the highest epoch and refuses older or equal epochs from another Proxy', () => {
    const f = new ProxyFollower(['p1', 'p2', 'p3']);
    expect(f.announced('p2', 7)).toEqual({ kind: 'followed', changed: true, previous: 'p1' });
    expect(f.announced('p2', 7)).toEqual({ kind: 'same' });
    expect(f.announced('p1', 5)).toEqual({ kind: 'stale', followedEpoch: 7 });
    expect(f.announced('p3', 7)).toEqual({ kind: 'stale', followedEpoch: 7 });
    expect(f.active).toBe('p2');
    expect(f.announced('p2', 9)).toEqual({ kind: 'followed', changed: false, previous: 'p2' });
    expect(f.announced('p1', 12)).toEqual({ kind: 'followed', changed: true, previous: 'p2' });
    expect(f.stats()).toMatchObject({ active: 'p1', epoch: 12, switches: 2, refused: 2 });
  });

  it('ignores peers that are not its Proxies', () => {
    const f = new ProxyFollower(['p1', 'p2']);
    expect(f.announced('h7', 99)).toEqual({ kind: 'not-a-proxy' });
    expect(f.active).toBe('p1');
  });

  it('needs a Proxy', () => {
    expect(() => new ProxyFollower([])).toThrow(/at least one/);
  });
});
