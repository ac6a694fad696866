import { afterEach, describe, expect, it } from 'vitest';
import { RelayError, type Primitives } from '../../../switch/overlay/primitives.js';
import { call, daemons } from './api-fixture.js';

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

/** A host whose relay fails: the only stub here, since the failure is what is tested. */
function failingHost(code: 'host-unreachable' | 'host-timeout'): Primitives {
  const fail = async (): Promise<never> => {
    throw new RelayError(code, `host h9: ${code}`);
  };
  return { interfaces: fail, links: fail, addLink: fail, deleteLink: fail, rules: fail, addRule: fail, deleteRule: fail, ports: fail, addPort: fail, deletePort: fail, configTimeBound: fail, setConfigTimeBound: fail };
}

describe('/v1/hosts/{host}/… on the Proxy', () => {
  it('runs each primitive on the named host (here: another real daemon\'s primitives)', async () => {
    const hostSide = await daemons(1);
    const host = hostSide.all[0]!;
    const proxySide = await daemons(1, {
      overrides: {
        host: (name) => (name === 'h1' ? host.primitives : undefined),
        hosts: () => [{ name: 'h1', state: 'up', interfaces: 2, links: 0, rules: 0 }],
      },
    });
    const proxy = proxySide.all[0]!;
    stop = async () => {
      await hostSide.stop();
      await proxySide.stop();
    };

    expect((await call(proxy.app, 'GET', '/v1/hosts')).body).toEqual({ hosts: [{ name: 'h1', state: 'up', interfaces: 2, links: 0, rules: 0 }] });
    const added = await call(proxy.app, 'POST', '/v1/hosts/h1/rules', { src: 'any', dst: 'none', target: 'vm1' });
    expect(added.status).toBe(201);
    expect(host.datapath.core.rules.size).toBe(1);
    expect(proxy.datapath.core.rules.size).toBe(0);
    expect((await call(proxy.app, 'GET', '/v1/hosts/h1/rules')).body.rules).toHaveLength(1);
    expect((await call(proxy.app, 'GET', '/v1/hosts/h1/interfaces')).body.interfaces).toHaveLength(2);
    expect((await call(proxy.app, 'PUT', '/v1/hosts/h1/config-time', { upperBoundMs: 750 })).status).toBe(200);
    expect(await host.primitives.configTimeBound()).toEqual({ upperBoundMs: 750 });
    expect((await call(proxy.app, 'DELETE', `/v1/hosts/h1/rules/${added.body.id}`)).status).toBe(204);
    expect(host.datapath.core.rules.size).toBe(0);
  });

  it('validates relayed requests against the spec too (400, nothing relayed)', async () => {
    const d = await daemons(1);
    const target = d.all[0]!;
    const proxy = await daemons(1, { overrides: { host: () => target.primitives, hosts: () => [] } });
    stop = async () => {
      await d.stop();
      await proxy.stop();
    };
    const res = await call(proxy.all[0]!.app, 'POST', '/v1/hosts/h1/rules', { src: 'nope', dst: 'any', target: 'vm1' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('/body/src');
    expect(target.datapath.core.rules.size).toBe(0);
    expect((await call(proxy.all[0]!.app, 'GET', '/v1/hosts/Not_A_Host/rules')).body.errors[0].field).toBe('/path/host');
  });

  it('404 for an unknown host', async () => {
    const d = await daemons(1, { overrides: { host: () => undefined, hosts: () => [] } });
    stop = d.stop;
    expect(await call(d.all[0]!.app, 'GET', '/v1/hosts/h7/links')).toMatchObject({ status: 404, body: { code: 'not-found' } });
  });

  it('502 when the host is unreachable, 504 when it does not answer in time', async () => {
    const d = await daemons(1, { overrides: { host: (name) => failingHost(name === 'gone' ? 'host-unreachable' : 'host-timeout'), hosts: () => [] } });
    stop = d.stop;
    const app = d.all[0]!.app;
    expect(await call(app, 'GET', '/v1/hosts/gone/rules')).toMatchObject({ status: 502, body: { code: 'host-unreachable' } });
    expect(await call(app, 'POST', '/v1/hosts/slow/rules', { src: 'any', dst: 'any', target: 'x' })).toMatchObject({ status: 504, body: { code: 'host-timeout' } });
  });

  it('on a daemon that is not the Proxy, /v1/hosts and /v1/hosts/… answer 404 "not the proxy"', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const app = d.all[0]!.app;
    expect(await call(app, 'GET', '/v1/hosts')).toMatchObject({ status: 404, body: { code: 'not-proxy' } });
    expect(await call(app, 'GET', '/v1/hosts/h1/rules')).toMatchObject({ status: 404, body: { code: 'not-proxy' } });
  });
});
