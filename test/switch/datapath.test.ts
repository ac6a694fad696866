import { describe, expect, it } from 'vitest';
import { Datapath } from '../../switch/datapath.js';
import type { SwitchEvent } from '../../switch/events.js';
import { createLogger } from '../../switch/log.js';
import { SwitchCore } from '../../switch/pipeline/forward.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { arpRequest, ethernetFrame, mac } from '../support/frames.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';

function threePorts() {
  let nowMs = 0;
  const core = new SwitchCore({});
  const events: SwitchEvent[] = [];
  const datapath = new Datapath({ core, clock: { now: () => nowMs }, log: createLogger({ write: () => {} }), events: { emit: (e) => events.push(e) } });
  const ports = ['a', 'b', 'c'].map((n) => new MemoryPort(n));
  for (const p of ports) datapath.attach(p, { floods: true });
  return { datapath, core, events, ports: ports as [MemoryPort, MemoryPort, MemoryPort], advance: (ms: number) => (nowMs += ms) };
}

describe('Datapath', () => {
  it('floods a broadcast to every other port, then switches the unicast reply to the learned port only', () => {
    const { ports } = threePorts();
    const [a, b, c] = ports;
    a.inject([arpRequest(mac(A), '198.19.0.1', '198.19.0.2')]);
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([0, 1, 1]);

    b.inject([ethernetFrame({ dst: A, src: B, payloadBytes: 46 })]);
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([1, 1, 1]);
  });

  it('writes one batch per output port for a batch of frames', () => {
    const { ports } = threePorts();
    const [a, b] = ports;
    b.inject([ethernetFrame({ dst: A, src: B, payloadBytes: 46 })]); // learn B on b (flooded)
    a.inject([ethernetFrame({ dst: B, src: A, payloadBytes: 46 })]); // learn A on a
    const before = b.sent.length;
    const batch = Array.from({ length: 10 }, () => ethernetFrame({ dst: B, src: A, payloadBytes: 100 }));
    a.inject(batch);
    expect(b.sent.length - before).toBe(10);
  });

  it('drops malformed frames with their reason and keeps forwarding', () => {
    const { ports, core, datapath } = threePorts();
    const [a, b] = ports;
    a.inject([new Uint8Array(6), ethernetFrame({ dst: B, src: 'ff:ff:ff:ff:ff:ff', payloadBytes: 46 }), new Uint8Array(3000)]);
    const stats = core.portStats(datapath.get('a')!.id);
    expect(stats.drops).toMatchObject({ runt: 1, 'source-multicast': 1, oversize: 1 });
    a.inject([arpRequest(mac(A), '198.19.0.1', '198.19.0.2')]);
    expect(b.sent.length).toBe(1);
  });

  it('counts transmitted frames and bytes on the output port', () => {
    const { ports, core, datapath } = threePorts();
    const frame = arpRequest(mac(A), '198.19.0.1', '198.19.0.2');
    ports[0].inject([frame]);
    expect(core.portStats(datapath.get('b')!.id)).toMatchObject({ txFrames: 1, txBytes: frame.length });
    expect(core.portStats(datapath.get('a')!.id)).toMatchObject({ rxFrames: 1, rxBytes: frame.length });
  });

  it('stops sending to a port whose device failed', () => {
    const { ports, datapath } = threePorts();
    const [a, b, c] = ports;
    const attached = datapath.get('c')!;
    c.fail(new Error('gone'));
    a.inject([arpRequest(mac(A), '198.19.0.1', '198.19.0.2')]);
    expect([b.sent.length, c.sent.length]).toEqual([1, 0]);
    expect(attached.state).toBe('down');
    expect(attached.lastError).toBe('gone');
  });

  it('brings a failed port back once it can reopen, and switches to it again', () => {
    const { ports, datapath } = threePorts();
    const [a, , c] = ports;
    c.fail(new Error('gone'));
    c.reopenError = new Error('interface-not-found');
    datapath.recover();
    expect(datapath.get('c')!).toMatchObject({ state: 'down', lastError: 'interface-not-found' });
    c.reopenError = undefined;
    datapath.recover();
    expect(datapath.get('c')!.state).toBe('up');
    expect(c.reopenCount).toBe(1);
    a.inject([arpRequest(mac(A), '198.19.0.1', '198.19.0.2')]);
    expect(c.sent.length).toBe(1);
  });

  it('raises port-down once when a device fails, and port-up when it reopens (not while it still cannot)', () => {
    const { ports, datapath, events } = threePorts();
    const c = ports[2];
    c.fail(new Error('gone'));
    c.fail(new Error('gone again')); // already down: nothing new
    c.reopenError = new Error('interface-not-found');
    datapath.recover();
    expect(events).toEqual([{ type: 'port-down', port: 'c', error: 'gone' }]);
    c.reopenError = undefined;
    datapath.recover();
    datapath.recover();
    expect(events).toEqual([
      { type: 'port-down', port: 'c', error: 'gone' },
      { type: 'port-up', port: 'c' },
    ]);
  });

  it('works the same with no event sink', () => {
    const datapath = new Datapath({ core: new SwitchCore({}), clock: { now: () => 0 }, log: createLogger({ write: () => {} }) });
    const port = new MemoryPort('a');
    datapath.attach(port, { floods: true });
    port.fail(new Error('gone'));
    datapath.recover();
    expect(datapath.get('a')!.state).toBe('up');
  });

  it('detaches ports and closes them', () => {
    const { ports, datapath } = threePorts();
    expect(datapath.detach('b')).toBe(true);
    expect(datapath.detach('b')).toBe(false);
    ports[0].inject([arpRequest(mac(A), '198.19.0.1', '198.19.0.2')]);
    expect(ports[1].sent.length).toBe(0);
    expect(ports[2].sent.length).toBe(1);
  });
});
