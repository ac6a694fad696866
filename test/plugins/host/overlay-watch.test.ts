import { describe, expect, it } from 'vitest';
import { currentEvents, diffSnapshots, EMPTY_SNAPSHOT, snapshotOf, type SnapshotLink } from '../../../plugins/host/overlay-watch.js';

const link = (host: string, name: string, state: 'up' | 'connecting', owner = 'config'): SnapshotLink => ({ host, name, state, owner });

describe('overlay snapshots → host and link events', () => {
  it('says which hosts joined and left', () => {
    const a = snapshotOf([{ name: 'h1', state: 'up' }, { name: 'h2', state: 'down' }], []);
    const b = snapshotOf([{ name: 'h2', state: 'up' }, { name: 'h3', state: 'down' }], []);
    expect(diffSnapshots(a, b)).toEqual([
      { type: 'host', host: { name: 'h2', change: 'joined' } },
      { type: 'host', host: { name: 'h1', change: 'left' } },
    ]);
    expect(diffSnapshots(b, b)).toEqual([]);
  });

  it('says which links were added, came up, went down and were removed', () => {
    const a = snapshotOf([], [link('h1', 'proxy', 'up'), link('h1', 'fp-h2', 'connecting', 'proxy:fastpath'), link('h2', 'old', 'up')]);
    const b = snapshotOf([], [link('h1', 'proxy', 'connecting'), link('h1', 'fp-h2', 'up', 'proxy:fastpath'), link('h3', 'new', 'connecting')]);
    expect(diffSnapshots(a, b)).toEqual([
      { type: 'link', link: { host: 'h1', name: 'proxy', change: 'down', state: 'connecting', owner: 'config' } },
      { type: 'link', link: { host: 'h1', name: 'fp-h2', change: 'up', state: 'up', owner: 'proxy:fastpath' } },
      { type: 'link', link: { host: 'h3', name: 'new', change: 'added', state: 'connecting', owner: 'config' } },
      { type: 'link', link: { host: 'h2', name: 'old', change: 'removed', state: 'gone', owner: 'config' } },
    ]);
  });

  it('tells a newcomer the current state as if everything had just happened', () => {
    const now = snapshotOf([{ name: 'h1', state: 'up' }, { name: 'h2', state: 'down' }], [link('h1', 'proxy', 'up')]);
    expect(currentEvents(now)).toEqual(diffSnapshots(EMPTY_SNAPSHOT, now));
    expect(currentEvents(now).map((e) => e.type)).toEqual(['host', 'link']);
  });
});
