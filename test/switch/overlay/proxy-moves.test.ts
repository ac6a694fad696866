import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import type { SwitchEvent } from '../../../switch/events.js';
import { createLogger } from '../../../switch/log.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import type { ControlDropReason, MacMovedMessage } from '../../../switch/overlay/control-messages.js';
import { MOVE_BOUNDS } from '../../../switch/overlay/move-limiter.js';
import type { VmMove } from '../../../switch/overlay/move-site.js';
import { CLAIM_WINDOW_MS, MOVE_CONVERGE_TIMEOUT_MS, ProxyMoves } from '../../../switch/overlay/proxy-moves.js';
import { arpRequest, ethernetFrame, mac } from '../../support/frames.js';

const VM = '02:00:c6:13:01:01';
const OTHER = '02:00:c6:13:03:01';

/** A Proxy's core with star links h1..h3, a policy link (not the star) and a VM port of its own. */
function proxy(options: { onMoved?: (move: VmMove) => void | Promise<void>; bounds?: typeof MOVE_BOUNDS } = {}) {
  const clock = new ManualClock();
  const core = new SwitchCore();
  const port = Object.fromEntries(['h1', 'h2', 'h3', 'policy-x', 'vm'].map((n) => [n, core.addPort({ name: n, floods: n !== 'policy-x' })])) as Record<string, number>;
  const events: SwitchEvent[] = [];
  const sent: [string, MacMovedMessage][] = [];
  const refused: [string, ControlDropReason][] = [];
  let up = ['h1', 'h2', 'h3'];
  const moves = new ProxyMoves({
    name: 'proxy',
    site: { core, isLinkPort: (id) => core.portName(id) !== 'vm' },
    isStarLink: (name) => /^h\d$/.test(name),
    hostsUp: () => up,
    send: (peer, message) => (sent.push([peer, message]), true),
    refuse: (peer, reason) => void refused.push([peer, reason]),
    clock,
    events: { emit: (e) => void events.push(e) },
    log: createLogger({ write: () => {} }),
    ...(options.onMoved ? { onMoved: options.onMoved } : {}),
    ...(options.bounds ? { bounds: options.bounds } : {}),
  });
  const announce = (from: string, at = clock.now()) => core.forward(arpRequest(VM, '198.19.1.1', '198.19.1.1'), port[from]!, at);
  const unicast = (from: string, src = VM, at = clock.now()) => core.forward(ethernetFrame({ src, dst: OTHER }), port[from]!, at);
  const named = (type: string) => events.filter((e) => e.type === type);
  return { clock, core, port, events, sent, refused, moves, announce, unicast, named, setUp: (hosts: string[]) => (up = hosts) };
}

/** Lets the microtasks run (announcements go after the frame's batch; plugin promises settle). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ProxyMoves', () => {
  it('announces a move seen on the guest\'s broadcast, tells every host, and converges when all acked and the plugins followed', async () => {
    let followed: (() => void) | undefined;
    const p = proxy({ onMoved: () => new Promise<void>((resolve) => (followed = resolve)) });
    p.announce('h1');
    await settle();
    expect(p.events).toEqual([]); // learned, not moved
    await p.clock.advance(30);
    p.announce('h2');
    expect(p.events).toEqual([]); // after the frame's batch
    await settle();
    expect(p.events).toEqual([{ type: 'vm-moved', mac: VM, from: 'h1', to: 'h2' }]);
    expect(p.sent).toEqual(['h1', 'h2', 'h3'].map((h) => [h, { t: 'mac-moved', id: 1, mac: VM, host: 'h2' }]));
    await p.clock.advance(7);
    for (const h of ['h1', 'h2', 'h3']) p.moves.acked(h, 1);
    await settle();
    expect(p.named('vm-move-converged')).toEqual([]); // the plugins have not followed yet
    await p.clock.advance(5);
    followed!();
    await settle();
    expect(p.named('vm-move-converged')).toEqual([{ type: 'vm-move-converged', mac: VM, from: 'h1', to: 'h2', convergeMs: 12, hosts: 3, complete: true }]);
    expect(p.moves.stats()).toMatchObject({ detected: 1, converged: 1, incomplete: 0, lastConvergeMs: 12 });
    expect(p.moves.pending).toBe(0);
  });

  it('a host that never answers: at the deadline the move is reported incomplete, naming it; a late or second ack is refused', async () => {
    const p = proxy();
    p.announce('h1');
    p.announce('h2');
    await settle();
    p.moves.acked('h1', 1);
    p.moves.acked('h2', 1);
    p.moves.acked('h2', 1);
    await p.clock.advance(MOVE_CONVERGE_TIMEOUT_MS);
    expect(p.named('vm-move-converged')).toEqual([{ type: 'vm-move-converged', mac: VM, from: 'h1', to: 'h2', convergeMs: MOVE_CONVERGE_TIMEOUT_MS, hosts: 3, complete: false, unacked: 'h3' }]);
    p.moves.acked('h3', 1);
    p.moves.acked('h3', 77);
    expect(p.refused).toEqual([
      ['h2', 'mac-moved-ack-unexpected'],
      ['h3', 'mac-moved-ack-unexpected'],
      ['h3', 'mac-moved-ack-unexpected'],
    ]);
    expect(p.moves.stats()).toMatchObject({ converged: 0, incomplete: 1, lastConvergeMs: null });
  });

  it('tells only the hosts whose star is up, and waits only for those', async () => {
    const p = proxy();
    p.setUp(['h2']);
    p.announce('h1');
    p.announce('h2');
    await settle();
    expect(p.sent.map(([h]) => h)).toEqual(['h2']);
    p.moves.acked('h2', 1);
    await settle();
    expect(p.named('vm-move-converged')).toEqual([expect.objectContaining({ complete: true, hosts: 1 })]);
  });

  it('a unicast move (maybe a hairpin) is announced only when the new host claims the VM within the window', async () => {
    const p = proxy();
    p.announce('h1');
    p.unicast('h2');
    await settle();
    expect(p.events).toEqual([]);
    expect(p.core.macTable.lookup(mac(VM), 0)).toBe(p.port.h2); // the table follows the frame, as any switch
    await p.clock.advance(CLAIM_WINDOW_MS);
    p.moves.arrived('h2', VM);
    expect(p.events).toEqual([{ type: 'vm-moved', mac: VM, from: 'h1', to: 'h2' }]);
    p.moves.arrived('h2', VM); // the same claim again: nothing moved
    expect(p.named('vm-moved')).toHaveLength(1);

    const q = proxy();
    q.announce('h1');
    q.unicast('h2');
    await q.clock.advance(CLAIM_WINDOW_MS + 1);
    q.moves.arrived('h2', VM);
    expect(q.events).toEqual([]); // too late to confirm that frame
  });

  it('a claim for a VM the Proxy has behind another host moves it (learned there) and announces it', () => {
    const p = proxy();
    p.announce('h1');
    p.moves.arrived('h3', VM);
    expect(p.core.macTable.lookup(mac(VM), 0)).toBe(p.port.h3);
    expect(p.events).toEqual([{ type: 'vm-moved', mac: VM, from: 'h1', to: 'h3' }]);
  });

  it('a claim for an unknown VM teaches it, moving nothing; a claim from a peer that is not a host is refused', () => {
    const p = proxy();
    p.moves.arrived('h2', VM);
    expect(p.core.macTable.lookup(mac(VM), 0)).toBe(p.port.h2);
    p.moves.arrived('policy-x', OTHER);
    p.moves.arrived('nobody', OTHER);
    expect(p.events).toEqual([]);
    expect(p.refused).toEqual([
      ['policy-x', 'mac-arrived-not-from-host'],
      ['nobody', 'mac-arrived-not-from-host'],
    ]);
    expect(p.core.macTable.lookup(mac(OTHER), 0)).toBeUndefined();
  });

  it('a VM whose entry aged out is remembered by its last host: its announcement elsewhere is still a move', async () => {
    const p = proxy();
    p.announce('h1', 0);
    p.core.expire(300_000);
    expect(p.core.macTable.lookup(mac(VM), 300_000)).toBeUndefined();
    p.announce('h2', 300_001);
    await settle();
    expect(p.events).toEqual([{ type: 'vm-moved', mac: VM, from: 'h1', to: 'h2' }]);
  });

  it('moves between the Proxy\'s own ports and its hosts name the Proxy; moves behind a link that is not the star are not VM moves', async () => {
    const p = proxy();
    p.announce('h1');
    p.announce('vm');
    p.announce('policy-x');
    await settle();
    expect(p.events).toEqual([{ type: 'vm-moved', mac: VM, from: 'h1', to: 'proxy' }]);
  });

  it('a newer move of the same VM supersedes a pending one', async () => {
    const p = proxy();
    p.announce('h1');
    p.announce('h2');
    await settle();
    await p.clock.advance(10);
    p.announce('h3');
    await settle();
    for (const h of ['h1', 'h2', 'h3']) p.moves.acked(h, 2);
    await settle();
    expect(p.named('vm-move-converged')).toEqual([expect.objectContaining({ from: 'h2', to: 'h3', complete: true, convergeMs: 0 })]);
    p.moves.acked('h1', 1);
    expect(p.refused).toEqual([['h1', 'mac-moved-ack-unexpected']]);
    await p.clock.advance(MOVE_CONVERGE_TIMEOUT_MS);
    expect(p.named('vm-move-converged')).toHaveLength(1);
  });

  it('a move over the bounds is counted and deferred: announced on a later tick if the VM is still there, dropped if not', async () => {
    const bounds = { ...MOVE_BOUNDS, perMac: { perSecond: 0.5, burst: 1 } };
    const p = proxy({ bounds });
    p.announce('h1');
    p.announce('h2');
    await settle();
    p.announce('h3'); // the MAC's one token is spent
    await settle();
    expect(p.named('vm-moved')).toHaveLength(1);
    expect(p.moves.stats().refused).toEqual({ 'host-rate': 0, 'mac-rate': 1 });
    expect(p.moves.deferred).toBe(1);
    p.moves.tick(1000);
    expect(p.named('vm-moved')).toHaveLength(1); // no token yet
    await p.clock.advance(2000);
    p.moves.tick(p.clock.now());
    expect(p.named('vm-moved').at(-1)).toEqual({ type: 'vm-moved', mac: VM, from: 'h2', to: 'h3' });
    expect(p.moves.deferred).toBe(0);

    const q = proxy({ bounds });
    q.announce('h1');
    q.announce('h2');
    await settle();
    q.announce('h3');
    await settle();
    q.unicast('h2', VM); // back behind h2 before its turn came
    await q.clock.advance(2000);
    q.moves.tick(q.clock.now());
    expect(q.named('vm-moved')).toHaveLength(1);
    expect(q.moves.deferred).toBe(0);
  });

  it('a plugin that fails to follow makes the move incomplete at once (not at the deadline)', async () => {
    const p = proxy({
      onMoved: () => {
        throw new Error('boom');
      },
    });
    p.announce('h1');
    p.announce('h2');
    await settle();
    for (const h of ['h1', 'h2', 'h3']) p.moves.acked(h, 1);
    await settle();
    expect(p.named('vm-move-converged')).toEqual([expect.objectContaining({ complete: false, convergeMs: 0 })]);
    expect(p.named('vm-move-converged')[0]).not.toHaveProperty('unacked');
  });
});
