/**
 * Policies reconnect (issue 19 part 3): a standby Proxy's API refuses a policy's registration, its changes and
 * its event stream with 421 `proxy-standby` naming the active Proxy (detail and headers); the active one answers,
 * and after a takeover the new active one has the policy (etcd's desired state) and streams its events, while the
 * old one, back as a standby, refuses. Real Daemons in memory (HTTP over unix sockets), a memory etcd.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HOSTS, haOverlay, type HaOverlay } from '../support/ha-overlay.js';

let current: HaOverlay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request to a daemon's API; an event stream is read until its first event, then closed. */
function call(o: HaOverlay, daemon: string, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: `${o.dir}/${daemon}.sock`, path, method, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (res.headers['content-type']?.startsWith('text/event-stream') && text.includes('\n\n')) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const standbyRefusal = (a: Answer) => ({ status: a.status, code: (JSON.parse(a.body) as { code?: string }).code, active: a.headers['vswitch-active-proxy'], epoch: a.headers['vswitch-active-epoch'] });

describe('Proxy HA: policies find the active Proxy', () => {
  it('a standby refuses registration, changes and the event stream naming the active one; after a takeover the new one has the policy', async () => {
    const o = (current = await haOverlay());
    await o.until(() => HOSTS.every((h) => o.daemons.get(h)!.status().ha?.following?.active === 'p1') && o.daemons.get('p1')!.plugins!.registry.isActiveProxy, 3000, 'p1 active');
    const epoch = String(o.daemons.get('p1')!.status().ha!.election!.epoch);
    const registration = { name: 'mon', events: ['host'] };

    const refused = await call(o, 'p2', 'POST', '/v1/plugins', registration);
    expect(standbyRefusal(refused)).toEqual({ status: 421, code: 'proxy-standby', active: 'p1', epoch });
    expect((JSON.parse(refused.body) as { detail: string }).detail).toMatch(/standby: the active proxy is p1 \(epoch \d+\)/);
    expect((await o.daemons.get('p2')!.plugins!.registry.list()).map((p) => p.name)).not.toContain('mon'); // nothing changed

    const registered = await call(o, 'p1', 'POST', '/v1/plugins', registration);
    expect(registered.status).toBe(201);
    const { token } = JSON.parse(registered.body) as { token: string };
    expect(standbyRefusal(await call(o, 'p2', 'GET', '/v1/plugins/mon/events', undefined, token))).toMatchObject({ status: 421, code: 'proxy-standby', active: 'p1' });
    expect(standbyRefusal(await call(o, 'p2', 'PATCH', '/v1/plugins/mon', { enabled: false }))).toMatchObject({ status: 421, code: 'proxy-standby' });
    expect(standbyRefusal(await call(o, 'p2', 'DELETE', '/v1/plugins/mon'))).toMatchObject({ status: 421, code: 'proxy-standby' });
    expect((await call(o, 'p2', 'GET', '/v1/plugins')).status).toBe(200); // reading is no change
    // Fast-path settings too: a standby's would be replaced by etcd's when it wins.
    expect(standbyRefusal(await call(o, 'p2', 'PUT', '/v1/plugins/fastpath/settings', { maxLinks: 3 }))).toMatchObject({ status: 421, code: 'proxy-standby', active: 'p1' });
    expect((await call(o, 'p1', 'PUT', '/v1/plugins/fastpath/settings', { maxLinks: 3 })).status).toBe(200);

    // p1 is cut from etcd: p2 wins with the policy (etcd's desired state), and its stream answers the same token.
    o.etcd.get('p1')!.cut = true;
    await o.until(() => o.daemons.get('p2')!.plugins!.registry.isActiveProxy, 5000, 'p2 active');
    const stream = await call(o, 'p2', 'GET', '/v1/plugins/mon/events', undefined, token);
    expect(stream.status).toBe(200);
    expect(stream.body).toMatch(/^event: hello/);
    // p1 reaches etcd again and steps down: it refuses, naming p2.
    o.etcd.get('p1')!.cut = false;
    await o.until(() => !o.daemons.get('p1')!.plugins!.registry.isActiveProxy, 2000, 'p1 steps down');
    expect(standbyRefusal(await call(o, 'p1', 'POST', '/v1/plugins', { name: 'other', events: ['link'] }))).toMatchObject({ status: 421, code: 'proxy-standby', active: 'p2' });
  });
});
