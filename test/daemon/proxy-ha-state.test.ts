/**
 * The desired state in etcd (issue 19 part 3): with `ha:`, the fast path's settings, the plugins' enabled states
 * and the HTTP policies set on the active Proxy are written under /vswitch/state/ in etcd; the Proxy that takes
 * over loads them before its plugins act (etcd's copy wins over its own file); a value in etcd that does not
 * decode is refused with its key named, and the rest load. Real Daemons in memory, a memory etcd, a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastPath } from '../../plugins/fastpath/fastpath.js';
import type { PolicyRegistration } from '../../plugins/host/plugin.js';
import { HOSTS, haOverlay, type HaOverlay } from '../support/ha-overlay.js';

/** A policy's registration (the lease as the API's default fills it in). */
const policy = (name: string, events: PolicyRegistration['events'], delivery?: PolicyRegistration['delivery']): PolicyRegistration => ({ name, events, leaseSeconds: 30, ...(delivery ? { delivery } : {}) });

let current: HaOverlay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const fastpath = (o: HaOverlay, p: string) => o.daemons.get(p)!.pluginExports('fastpath') as FastPath;
const registry = (o: HaOverlay, p: string) => o.daemons.get(p)!.plugins!.registry;
const role = (o: HaOverlay, p: string) => o.daemons.get(p)!.status().ha?.election?.role;
const etcdKeys = (o: HaOverlay) => o.cluster.range('/vswitch/state/').map((kv) => kv.key);

async function ready(): Promise<HaOverlay> {
  const o = (current = await haOverlay());
  await o.until(() => HOSTS.every((h) => o.daemons.get(h)!.status().ha?.following?.active === 'p1') && registry(o, 'p1').isActiveProxy, 3000, 'p1 active, followed');
  return o;
}

/** p1 dies as a SIGKILL would have it (no revoke): p2 takes over and its plugins act. */
async function killP1(o: HaOverlay): Promise<void> {
  o.etcd.get('p1')!.cut = true;
  await o.daemons.get('p1')!.stop();
  o.daemons.delete('p1');
  await o.until(() => role(o, 'p2') === 'active' && registry(o, 'p2').isActiveProxy, 5000, 'p2 takes over');
}

describe('Proxy HA: the desired state in etcd', () => {
  it('the first active Proxy seeds etcd; settings and policies set on it are in force on the Proxy that takes over', async () => {
    const o = await ready();
    expect(o.cluster.get('/vswitch/state/seeded')?.value).toBe('p1');
    await fastpath(o, 'p1').setSettings({ enabled: true, maxLinks: 5, addAfterMs: 2000 });
    const { token } = await registry(o, 'p1').register(policy('mon', ['host'], { type: 'sse' }), { name: 'operator' });
    expect(etcdKeys(o)).toEqual(expect.arrayContaining(['/vswitch/state/fastpath/settings', '/vswitch/state/plugin/fastpath', '/vswitch/state/policy/mon']));
    // The standby's own records do not have them (it is told nothing but through etcd).
    expect(fastpath(o, 'p2').settings()).toMatchObject({ enabled: false, maxLinks: 1000, addAfterMs: 0 });
    expect(registry(o, 'p2').policyByToken(token)).toBeUndefined();

    await killP1(o);
    expect(fastpath(o, 'p2').settings()).toMatchObject({ enabled: true, maxLinks: 5, addAfterMs: 2000 });
    const view = await registry(o, 'p2').get('mon');
    expect(view).toMatchObject({ name: 'mon', kind: 'http', state: 'waiting' }); // for its client's stream
    // The policy's token (kept as a digest) is good on the new active Proxy: its client only changes address.
    expect(registry(o, 'p2').policyByToken(token)?.name).toBe('mon');
  });

  it('etcd\'s copy wins over the new active Proxy\'s own file; what was removed on the old one is gone on the new one', async () => {
    const o = await ready();
    // p2's own file says something else (set while it was standby: local only, never in etcd).
    await fastpath(o, 'p2').setSettings({ maxLinks: 77 });
    await registry(o, 'p2').register(policy('stale', ['link']), { name: 'operator' });
    expect(etcdKeys(o)).not.toContain('/vswitch/state/policy/stale');
    await registry(o, 'p1').register(policy('gone', ['host']), { name: 'operator' });
    await registry(o, 'p1').unregister('gone');
    await fastpath(o, 'p1').setSettings({ maxLinks: 9 });

    await killP1(o);
    expect(fastpath(o, 'p2').settings().maxLinks).toBe(9);
    const names = (await registry(o, 'p2').list()).map((p) => p.name);
    expect(names).not.toContain('stale');
    expect(names).not.toContain('gone');
    // Its file now says what etcd says: a restart of p2 alone would start from the same.
    expect(o.daemons.get('p2')!.status().ha?.election?.role).toBe('active');
  });

  it('a hostile or corrupt value in etcd is refused with its key named; the rest still load', async () => {
    const o = await ready();
    await fastpath(o, 'p1').setSettings({ maxLinks: 6 });
    await registry(o, 'p1').register(policy('good', ['host']), { name: 'operator' });
    o.cluster.put('/vswitch/state/policy/bad', 'not json');
    o.cluster.put('/vswitch/state/policy/evil', JSON.stringify({ registration: { name: 'other', events: ['host'] }, registeredBy: 'x', registeredAt: '2026-01-01T00:00:00Z', tokenDigest: '0'.repeat(64), enabled: true, expired: false }));
    o.cluster.put('/vswitch/state/plugin/vttif', JSON.stringify({ enabled: { value: 'yes', base: true } }));
    o.cluster.put('/vswitch/state/link/x1', '{}');

    await killP1(o);
    const refused = o.logs.filter((l) => l.daemon === 'p2' && l.msg.startsWith('ha: a desired-state value in etcd is refused'));
    expect(refused.map((l) => l['key']).sort()).toEqual(['/vswitch/state/link/x1', '/vswitch/state/plugin/vttif', '/vswitch/state/policy/bad', '/vswitch/state/policy/evil']);
    expect(refused.find((l) => l['key'] === '/vswitch/state/policy/evil')?.['reason']).toMatch(/registration\.name/);
    expect(refused.find((l) => l['key'] === '/vswitch/state/policy/bad')?.['reason']).toMatch(/not JSON/);
    expect(fastpath(o, 'p2').settings().maxLinks).toBe(6);
    const names = (await registry(o, 'p2').list()).map((p) => p.name);
    expect(names).toContain('good');
    expect(names).not.toContain('evil');
    expect(names).not.toContain('other');
    expect(registry(o, 'p2').entry('vttif').enabled).toBe(true);
  });

  it('etcd refuses the write: the change is refused on the active Proxy and nothing changes', async () => {
    const o = await ready();
    o.etcd.get('p1')!.cut = true;
    await expect(fastpath(o, 'p1').setSettings({ maxLinks: 3 })).rejects.toMatchObject({ code: 'etcd-unavailable' });
    expect(fastpath(o, 'p1').settings().maxLinks).toBe(1000);
    await expect(registry(o, 'p1').register(policy('mon', ['host']), { name: 'operator' })).rejects.toMatchObject({ code: 'etcd-unavailable' });
    await expect(registry(o, 'p1').get('mon')).rejects.toMatchObject({ code: 'not-found' });
  });
});
