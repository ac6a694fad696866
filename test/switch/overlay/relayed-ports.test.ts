/**
 * Ports added and deleted on a host through the Proxy (`/v1/hosts/{host}/ports`, RelayedPrimitives over the
 * control channel), in a whole overlay of real daemons in memory: a port added on h1 carries frames to h2's VM at
 * once, its owner says the Proxy relayed it, the refusals keep their status, code and field across the relay, and a
 * deleted port's MACs are gone from the host.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { SwitchEvent } from '../../../switch/events.js';
import { BROADCAST_MAC, formatMac, parseMac } from '../../../switch/frame/mac.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';

let overlay: MemoryOverlay | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { status?: number; problem?: unknown }) => ({ status: e.status, problem: e.problem }));
const QVM = '02:00:c6:13:01:09';

describe('ports relayed by the Proxy', () => {
  it('adds a capture port on h1 through the Proxy: listed with its owner, frames reach h2, deleted again with its MACs', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const o = overlay;
    const h1 = o.hosts.get('h1')!;
    const events: SwitchEvent[] = [];
    h1.bus.subscribe((e) => events.push(e));
    o.hostInterfaces.get('h1')!.add('qvm1');

    const added = await apiRequest<{ name: string; owner: string; interface?: string }>(o.api, 'POST', '/v1/hosts/h1/ports', { name: 'qvm1', type: 'capture', interface: 'qvm1' });
    expect(added).toMatchObject({ name: 'qvm1', owner: 'proxy:local', interface: 'qvm1', state: 'up' });
    const { ports } = await apiRequest<{ ports: { name: string; owner: string }[] }>(o.api, 'GET', '/v1/hosts/h1/ports');
    expect(ports.map((p) => `${p.name} ${p.owner}`)).toEqual(['tap-h1v1 config', 'proxy config', 'qvm1 proxy:local']);
    expect(events).toContainEqual({ type: 'port-added', port: 'qvm1', kind: 'capture', interface: 'qvm1', by: 'proxy:local' });
    // The dashboard's event log (and GET /v1/events) has it, as it has link events.
    expect(h1.events.list().find((e) => e.event === 'port-added')).toMatchObject({ level: 'info', msg: 'port qvm1 added by proxy:local (capture on qvm1)' });

    // The "VM" behind qvm1 talks to h2's VM, over the star: a broadcast first (so both learn), then unicast.
    const qvm1 = o.ports.get('qvm1')!;
    const h2vm = o.ports.get('tap-h2v1')!;
    qvm1.inject([ethernetFrame({ src: QVM, dst: BROADCAST_MAC })]);
    await o.until(() => h2vm.sent.length >= 1, 2000, 'the broadcast reaches h2');
    h2vm.inject([ethernetFrame({ src: vmMac('h2'), dst: QVM })]);
    await o.until(() => qvm1.sent.length >= 1, 2000, "h2's answer reaches qvm1");
    expect(h1.macEntries().map((m) => m.port)).toContain('qvm1');

    // The Proxy hears of the new port in the host's next report.
    await o.until(() => o.proxy.overlay!.report('h1')?.interfaces.some((i) => i.name === 'qvm1') ?? false, 2000, 'the report lists qvm1');

    await apiRequest(o.api, 'DELETE', '/v1/hosts/h1/ports/qvm1');
    expect(h1.datapath.get('qvm1')).toBeUndefined();
    expect(h1.macEntries().map((m) => m.mac)).not.toContain(QVM);
    expect(events).toContainEqual({ type: 'port-deleted', port: 'qvm1', rules: 0, by: 'proxy:local' });
    // Frames toward its MAC no longer reach it.
    const sentBefore = qvm1.sent.length;
    h2vm.inject([ethernetFrame({ src: vmMac('h2'), dst: QVM })]);
    await o.clock.advance(100);
    expect(qvm1.sent.length).toBe(sentBefore);
  });

  it('refusals keep their status, code and field across the relay, and change nothing on the host', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1'] });
    const o = overlay;
    const h1 = o.hosts.get('h1')!;
    const state = async () => ({ ports: (await h1.primitives.ports()).map((p) => p.name), rules: await h1.primitives.rules(), macs: h1.macEntries() });
    const before = await state();
    expect(await refusal(apiRequest(o.api, 'POST', '/v1/hosts/h1/ports', { name: 'qvm1', type: 'capture', interface: 'qvm1' }))).toMatchObject({
      status: 400,
      problem: { code: 'interface-not-found', errors: [{ field: '/body/interface' }] },
    });
    expect(await refusal(apiRequest(o.api, 'POST', '/v1/hosts/h1/ports', { name: 'proxy', type: 'tap' }))).toMatchObject({ status: 409, problem: { code: 'conflict' } });
    expect(await refusal(apiRequest(o.api, 'POST', '/v1/hosts/h1/ports', { name: 'much-too-long-name', type: 'tap' }))).toMatchObject({ status: 400 });
    expect(await refusal(apiRequest(o.api, 'DELETE', '/v1/hosts/h1/ports/nope'))).toMatchObject({ status: 404, problem: { code: 'not-found' } });
    expect(await refusal(apiRequest(o.api, 'DELETE', '/v1/hosts/h1/ports/proxy'))).toMatchObject({ status: 409, problem: { code: 'conflict' } });
    expect(await refusal(apiRequest(o.api, 'POST', '/v1/hosts/h9/ports', { name: 'x', type: 'tap' }))).toMatchObject({ status: 404 });
    const rule = await h1.primitives.addRule({ src: 'any', dst: formatMac(parseMac(QVM)!), target: 'tap-h1v1' }, { name: 'local' });
    const inUse = await refusal(apiRequest(o.api, 'DELETE', '/v1/hosts/h1/ports/tap-h1v1'));
    expect(inUse).toMatchObject({ status: 409, problem: { code: 'port-in-use' } });
    await h1.primitives.deleteRule(rule.id, { name: 'local' });
    expect(await state()).toEqual(before);
  });

  it("a policy is refused at the Proxy (403 policy-forbidden), before anything is relayed", async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1'] });
    const h1Relay = overlay.proxy.overlay!.host('h1')!;
    overlay.hostInterfaces.get('h1')!.add('qvm1');
    await expect(h1Relay.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, { name: 'policy:pin' })).rejects.toMatchObject({ code: 'policy-forbidden', httpStatus: 403 });
    await expect(h1Relay.deletePort('tap-h1v1', { name: 'fastpath' })).rejects.toMatchObject({ code: 'policy-forbidden', httpStatus: 403 });
    expect((await h1Relay.ports()).map((p) => p.name)).toEqual(['tap-h1v1', 'proxy']);
  });
});
