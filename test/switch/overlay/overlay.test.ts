/**
 * A Proxy and a host, as two real Daemons over in-memory ports and transports:
 * the star comes up, the Proxy runs primitives on the host over the control
 * channel, and malformed control messages change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { arpRequest, mac } from '../../support/frames.js';
import { startMemoryOverlay, type MemoryOverlay } from '../../support/memory-overlay.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

async function star() {
  const overlay = await startMemoryOverlay({ hosts: ['h1'] });
  running.push(overlay);
  return { proxy: overlay.proxy, host: overlay.hosts.get('h1')!, ports: overlay.ports, clock: overlay.clock };
}

describe('the overlay between a Proxy and a host', () => {
  it('installs the default rule toward the Proxy on the host', async () => {
    const { host } = await star();
    expect(await host.primitives.rules()).toEqual([
      expect.objectContaining({ src: 'any', dst: 'none', target: 'proxy', owner: 'star' }),
    ]);
  });

  it('sends a VM broadcast up the star to the Proxy', async () => {
    const { host, proxy, ports, clock } = await star();
    ports.get('tap-h1v1')!.inject([arpRequest(mac('02:00:c6:13:01:01'), '198.19.1.1', '198.19.2.1')]);
    await clock.advance(20);
    expect(proxy.macEntries()).toEqual([expect.objectContaining({ mac: '02:00:c6:13:01:01', port: 'h1' })]);
    expect(host.macEntries()).toHaveLength(1);
  });

  it('runs primitives on the host from the Proxy, over the control channel', async () => {
    const { host, proxy } = await star();
    const relayed = proxy.overlay!.host('h1')!;
    const rule = await relayed.addRule({ src: '02:00:c6:13:01:01', dst: 'any', target: 'proxy', priority: 5 }, { name: 'test' });
    expect(rule).toMatchObject({ src: '02:00:c6:13:01:01', dst: 'any', owner: 'proxy:test' });
    expect((await host.primitives.rules()).map((r) => r.id)).toContain(rule.id);
    expect((await relayed.interfaces()).map((i) => i.name)).toEqual(['tap-h1v1', 'proxy']);
    await relayed.deleteRule(rule.id, { name: 'test' });
    expect((await host.primitives.rules()).map((r) => r.id)).not.toContain(rule.id);
  });

  it('brings back typed errors from the host', async () => {
    const { proxy } = await star();
    const relayed = proxy.overlay!.host('h1')!;
    await expect(relayed.deleteRule(999, { name: 'test' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(relayed.addRule({ src: 'nonsense', dst: 'any', target: 'x' }, { name: 'test' })).rejects.toMatchObject({
      code: 'invalid-input',
      field: 'src',
    });
  });

  it('rejects malformed control messages and changes nothing', async () => {
    const { host, proxy, clock } = await star();
    const rulesBefore = await host.primitives.rules();
    for (const body of ['not json', '[]', '{"t":"req","id":1,"op":"format-disk","args":[],"actor":"x"}', '{"t":"req","id":-1}', '{"t":"nope"}']) {
      proxy.links!.sendControl('h1', new TextEncoder().encode(body));
    }
    // A request whose argument has the wrong shape reaches the host and is refused there, naming the field.
    await expect(proxy.overlay!.channel.request('h1', 'addRule', [{ src: 1 }], 'test')).rejects.toMatchObject({ field: 'src' });
    await clock.advance(20);
    expect(Object.values(host.overlay!.channel.malformed).reduce((a, b) => a + b, 0)).toBe(5);
    expect(await host.primitives.rules()).toEqual(rulesBefore);
  });

  it('refuses primitive requests from a peer that is not its Proxy', async () => {
    const { host } = await star();
    // The host asks the Proxy: a Proxy takes no orders from hosts.
    await expect(host.overlay!.channel.request('proxy', 'rules', [], 'h1')).rejects.toMatchObject({ code: 'forbidden' });
  });
});
