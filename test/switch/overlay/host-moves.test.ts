import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import type { MoveMessage } from '../../../switch/overlay/control-messages.js';
import { HostMoves } from '../../../switch/overlay/host-moves.js';
import { ethernetFrame, mac, testMac } from '../../support/frames.js';

const VM = '02:00:c6:13:01:01';
const PEER_VM = '02:00:c6:13:03:01';

/** A host "h1": VM ports vm1 and vm2, its star link "proxy", a fast link "fp-h3". */
function host() {
  const clock = new ManualClock();
  const core = new SwitchCore();
  const port = Object.fromEntries(['vm1', 'vm2', 'proxy', 'fp-h3'].map((n) => [n, core.addPort({ name: n, floods: n !== 'fp-h3' })])) as Record<string, number>;
  const sent: MoveMessage[] = [];
  const moves = new HostMoves({
    name: 'h1',
    site: { core, isLinkPort: (id) => ['proxy', 'fp-h3'].includes(core.portName(id) ?? '') },
    proxyPeer: 'proxy',
    sendToProxy: (m) => (sent.push(m), true),
    clock,
  });
  const from = (name: string, src: string | number, dst: string | number = PEER_VM) => core.forward(ethernetFrame({ src, dst }), port[name]!, clock.now());
  const where = (m: string) => core.portName(core.macTable.lookup(mac(m), clock.now()) ?? -1);
  return { clock, core, port, sent, moves, from, where };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('HostMoves', () => {
  it('tells the Proxy of a MAC that appears on one of its VM ports (new, or coming from behind a link), once', async () => {
    const h = host();
    h.from('vm1', VM);
    h.from('vm1', VM);
    await settle();
    expect(h.sent).toEqual([{ t: 'mac-arrived', mac: VM }]);
    h.from('fp-h3', PEER_VM, VM); // a remote VM behind a link: not ours to tell
    h.from('vm2', VM); // from one of our ports to another: it stayed here
    await settle();
    expect(h.sent).toHaveLength(1);
    h.from('proxy', VM); // it left (as the star says), then came back to a VM port
    h.from('vm1', VM);
    await settle();
    expect(h.sent).toEqual([
      { t: 'mac-arrived', mac: VM },
      { t: 'mac-arrived', mac: VM },
    ]);
    expect(h.moves.stats()).toMatchObject({ arrivalsSent: 2, arrivalsSuppressed: 0 });
  });

  it('a VM spraying source MACs makes at most the bound of claims; the rest are counted', async () => {
    const h = host();
    for (let i = 0; i < 100; i++) h.from('vm1', testMac(i));
    await settle();
    expect(h.sent).toHaveLength(20);
    expect(h.moves.stats()).toMatchObject({ arrivalsSent: 20, arrivalsSuppressed: 80 });
  });

  it('an announcement that the VM is elsewhere forgets it behind a fast link or on a VM port, not behind the star; then acks', () => {
    const h = host();
    h.from('fp-h3', PEER_VM, VM);
    h.from('vm1', VM);
    h.from('proxy', testMac(9));
    h.moves.moved({ t: 'mac-moved', id: 4, mac: PEER_VM, host: 'h2' });
    h.moves.moved({ t: 'mac-moved', id: 5, mac: VM, host: 'h2' });
    h.moves.moved({ t: 'mac-moved', id: 6, mac: '02:00:00:00:00:09', host: 'h2' });
    expect([h.where(PEER_VM), h.where(VM), h.where('02:00:00:00:00:09')]).toEqual([undefined, undefined, 'proxy']);
    expect(h.sent.filter((m) => m.t === 'mac-moved-ack')).toEqual([4, 5, 6].map((id) => ({ t: 'mac-moved-ack', id })));
    expect(h.moves.stats()).toMatchObject({ applied: 3, forgotten: 2 });
  });

  it('this host being the new one, or a static entry: nothing forgotten (still acked)', () => {
    const h = host();
    h.from('vm1', VM);
    h.core.macTable.addStatic(mac(PEER_VM), h.port['fp-h3']!);
    h.moves.moved({ t: 'mac-moved', id: 1, mac: VM, host: 'h1' });
    h.moves.moved({ t: 'mac-moved', id: 2, mac: PEER_VM, host: 'h2' });
    expect([h.where(VM), h.where(PEER_VM)]).toEqual(['vm1', 'fp-h3']);
    expect(h.moves.stats()).toMatchObject({ applied: 2, forgotten: 0 });
    expect(h.sent.filter((m) => m.t === 'mac-moved-ack')).toHaveLength(2);
  });
});
