/** The dashboard's fast-path line says the pairs through NAT: how many went direct, and each punch-failed pair with its NAT kinds. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pluginLine } from '../../../api/dashboard/client.js';
import { FakeDocument, type FakeElement } from './fake-dom.js';

afterEach(() => vi.unstubAllGlobals());

const status = (punches?: unknown[]) => ({
  settings: { enabled: true, maxLinksPerHost: 7, removeAfterMs: 10_000 },
  links: [{ a: 'h2', b: 'h3', state: 'up', rules: 2 }],
  counters: { linksAdded: 2, linksRemoved: 1, linkFailures: 1 },
  ...(punches ? { punches } : {}),
});

describe('the fast-path line of the plugins panel', () => {
  it('says the punches, and each failed pair with its NAT kinds as a warning', () => {
    vi.stubGlobal('document', new FakeDocument());
    const p = pluginLine({
      name: 'fastpath',
      kind: 'builtin',
      state: 'running',
      enabled: true,
      status: status([
        { a: 'h2', b: 'h3', natA: 'port-preserving', natB: 'port-preserving', state: 'direct' },
        { a: 'h4', b: 'h5', natA: 'port-changing', natB: 'port-changing', state: 'punch-failed' },
      ]),
    } as never) as unknown as FakeElement;
    expect(p.textContent).toBe(
      'fastpath (builtin) · running · 1/1 fast links up · at most 7 per host · added 2, removed 1, failed 1 · through NAT: 1 direct, 1 punch-failed · h4–h5 (port-changing, port-changing) on the star',
    );
    expect(p.querySelector('.warn')!.textContent).toBe('h4–h5 (port-changing, port-changing) on the star');
  });

  it('says nothing of NAT when no pair crosses one', () => {
    vi.stubGlobal('document', new FakeDocument());
    const p = pluginLine({ name: 'fastpath', kind: 'builtin', state: 'running', enabled: true, status: status([]) } as never) as unknown as FakeElement;
    expect(p.textContent).toBe('fastpath (builtin) · running · 1/1 fast links up · at most 7 per host · added 2, removed 1, failed 1');
  });
});
