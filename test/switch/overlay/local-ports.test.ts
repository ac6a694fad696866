/**
 * The port primitives on one daemon (switch/overlay/local-ports.ts): a real LocalPrimitives over a real SwitchCore,
 * Datapath and LinkManager, with memory twins of the TAP and capture devices. Adding, listing and deleting; every bad
 * input refused before anything changes (the whole state — ports, rules, MACs, opened devices, events — compared
 * before and after); a deleted port's MACs forgotten and frames toward it counted; policies kept out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PortConfig } from '../../../switch/config/config.js';
import { ManualClock } from '../../../switch/clock.js';
import { Datapath } from '../../../switch/datapath.js';
import { EventBus, type SwitchEvent } from '../../../switch/events.js';
import { formatMac, BROADCAST_MAC } from '../../../switch/frame/mac.js';
import { LinkManager } from '../../../switch/link/link-manager.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../../switch/log.js';
import { LocalPrimitives } from '../../../switch/overlay/local-primitives.js';
import type { PortInput } from '../../../switch/overlay/primitives.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';
import { InterfaceDownError, InterfaceNotFoundError, PortOpenError, TapNameTakenError, TapPermissionError } from '../../../switch/port/port-errors.js';
import { ethernetFrame, testMac } from '../../support/frames.js';

const LOCAL = { name: 'local' };
let seed = 11;
// The high byte of the LCG (its low bits repeat every 256 steps: keys would too).
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);

let links: LinkManager | undefined;
afterEach(async () => {
  await links?.stop();
  links = undefined;
});

/** One daemon: config port vm1 (a memory twin), a link "h2", host interfaces qvm1 and qvm2, MAC A learned on vm1. */
async function setUp(options: { maxPorts?: number } = {}) {
  const clock = new ManualClock();
  const log = createLogger({ write: () => {} });
  const core = new SwitchCore();
  const bus = new EventBus();
  const events: SwitchEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const datapath = new Datapath({ core, clock, log, events: bus });
  const network = new MemoryNetwork();
  links = new LinkManager({
    privateKey: generatePrivateKey(randomBytes),
    udp: network.createTransport({ kind: 'udp', listen: { host: '198.18.0.1', port: 51820 } }),
    clock,
    wallClock: () => 0,
    randomBytes,
    log,
  });
  await links.start();
  const manager = links;
  const opened = new Map<string, MemoryPort>();
  const openedConfigs: PortConfig[] = [];
  const failure: { error: Error | undefined } = { error: undefined };
  const hostInterfaces = new Set(['qvm1', 'qvm2']);
  const changes: string[] = [];
  const primitives = new LocalPrimitives({
    datapath,
    links: () => manager,
    log,
    events: bus,
    onChange: (what) => changes.push(what),
    openPort: (config) => {
      if (failure.error) throw failure.error;
      openedConfigs.push(config);
      const port = new MemoryPort(config.name);
      opened.set(config.name, port);
      return port;
    },
    interfaceExists: (name) => hostInterfaces.has(name),
    ...(options.maxPorts === undefined ? {} : { maxPorts: options.maxPorts }),
  });
  const vm1 = primitives.portTable.openConfigPort({ type: 'tap', name: 'vm1', mtu: 1500 }, (c) => new MemoryPort(c.name)) as MemoryPort;
  const peer = encodeKeyBase64(publicKey(generatePrivateKey(randomBytes)));
  await primitives.addLink({ name: 'h2', publicKey: peer, transport: 'udp' }, LOCAL);
  vm1.inject([ethernetFrame({ src: testMac(0xa), dst: BROADCAST_MAC })]);
  events.length = 0;
  changes.length = 0;
  /** Everything a refused request must leave as it was. */
  const state = async () => ({
    ports: (await primitives.ports()).map(({ name, kind, state, owner, interface: iface }) => ({ name, kind, state, owner, iface })),
    rules: await primitives.rules(),
    macs: core.macEntries(clock.now()).map((m) => [formatMac(m.mac), m.portName]),
    opened: [...opened.keys()],
    events: events.length,
    changes: changes.length,
  });
  return { clock, core, datapath, primitives, vm1, opened, openedConfigs, failure, hostInterfaces, events, changes, state };
}

const refusal = (p: Promise<unknown>) => p.then(() => ({ accepted: true }), (e: unknown) => e);

describe('the port primitives', () => {
  it('adds a TAP port: it opens with the MTU, switches frames, is listed with its owner, raises port-added', async () => {
    const t = await setUp();
    const added = await t.primitives.addPort({ name: 'tap-vm2', type: 'tap', mtu: 9000 }, LOCAL);
    expect(added).toMatchObject({ name: 'tap-vm2', kind: 'memory', state: 'up', owner: 'local', rxFrames: 0 });
    expect(added.interface).toBeUndefined();
    expect(t.openedConfigs).toEqual([{ type: 'tap', name: 'tap-vm2', mtu: 9000 }]);
    expect(t.events).toEqual([{ type: 'port-added', port: 'tap-vm2', kind: 'tap', by: 'local' }]);
    expect(t.changes).toEqual(['port']);
    // It is a port of the switch at once: a frame to A (learned on vm1) arrives there.
    t.opened.get('tap-vm2')!.inject([ethernetFrame({ src: testMac(0xb), dst: testMac(0xa) })]);
    expect(t.vm1.sent).toHaveLength(1);
    expect((await t.primitives.ports()).map((p) => `${p.name} ${p.kind} ${p.owner}`)).toEqual(['vm1 memory config', 'h2 link local', 'tap-vm2 memory local']);
  });

  it('adds a capture port on an existing interface (promiscuous by default) and lists the interface', async () => {
    const t = await setUp();
    const added = await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, { name: 'proxy:ops' });
    expect(added).toMatchObject({ name: 'qvm1', owner: 'proxy:ops', interface: 'qvm1' });
    expect(t.openedConfigs).toEqual([{ type: 'capture', name: 'qvm1', interface: 'qvm1', promiscuous: true }]);
    expect(t.events).toEqual([{ type: 'port-added', port: 'qvm1', kind: 'capture', interface: 'qvm1', by: 'proxy:ops' }]);
    await t.primitives.addPort({ name: 'cap2', type: 'capture', interface: 'qvm2', promiscuous: false }, LOCAL);
    expect(t.openedConfigs[1]).toEqual({ type: 'capture', name: 'cap2', interface: 'qvm2', promiscuous: false });
  });

  const BAD: [string, PortInput | Record<string, unknown>, { code: string; httpStatus: number; field?: string }][] = [
    ['an empty name', { name: '', type: 'tap' }, { code: 'invalid-input', httpStatus: 400, field: 'name' }],
    ['a name of 16 characters', { name: 'a234567890123456', type: 'tap' }, { code: 'invalid-input', httpStatus: 400, field: 'name' }],
    ['a name of 15 characters but 18 bytes', { name: 'éééééééé12', type: 'tap' }, { code: 'invalid-input', httpStatus: 400, field: 'name' }],
    ['a name with "/"', { name: 'a/b', type: 'tap' }, { code: 'invalid-input', httpStatus: 400, field: 'name' }],
    ['a name with a space', { name: 'a b', type: 'tap' }, { code: 'invalid-input', httpStatus: 400, field: 'name' }],
    ['the name ".."', { name: '..', type: 'tap' }, { code: 'invalid-input', httpStatus: 400, field: 'name' }],
    ["a port's name", { name: 'vm1', type: 'tap' }, { code: 'conflict', httpStatus: 409 }],
    ["a link's name", { name: 'h2', type: 'capture', interface: 'qvm1' }, { code: 'conflict', httpStatus: 409 }],
    ['another type', { name: 'x', type: 'tun' }, { code: 'invalid-input', httpStatus: 400, field: 'type' }],
    ['a TAP with an interface', { name: 'x', type: 'tap', interface: 'qvm1' }, { code: 'invalid-input', httpStatus: 400, field: 'interface' }],
    ['a TAP with promiscuous', { name: 'x', type: 'tap', promiscuous: true }, { code: 'invalid-input', httpStatus: 400, field: 'promiscuous' }],
    ['a TAP MTU of 67', { name: 'x', type: 'tap', mtu: 67 }, { code: 'invalid-input', httpStatus: 400, field: 'mtu' }],
    ['a TAP MTU of 65522', { name: 'x', type: 'tap', mtu: 65_522 }, { code: 'invalid-input', httpStatus: 400, field: 'mtu' }],
    ['a TAP MTU of 1500.5', { name: 'x', type: 'tap', mtu: 1500.5 }, { code: 'invalid-input', httpStatus: 400, field: 'mtu' }],
    ['a capture port without interface', { name: 'x', type: 'capture' }, { code: 'invalid-input', httpStatus: 400, field: 'interface' }],
    ['a capture port with an MTU', { name: 'x', type: 'capture', interface: 'qvm1', mtu: 1500 }, { code: 'invalid-input', httpStatus: 400, field: 'mtu' }],
    ['an interface that is not there', { name: 'x', type: 'capture', interface: 'qvm9' }, { code: 'interface-not-found', httpStatus: 400, field: 'interface' }],
    ['a bad interface name', { name: 'x', type: 'capture', interface: 'eth0:1' }, { code: 'invalid-input', httpStatus: 400, field: 'interface' }],
  ];

  it.each(BAD)('refuses %s, and nothing changes', async (_what, input, expected) => {
    const t = await setUp();
    const before = await t.state();
    await expect(t.primitives.addPort(input as PortInput, LOCAL)).rejects.toMatchObject(expected);
    expect(await t.state()).toEqual(before);
    expect(t.openedConfigs).toEqual([]);
  });

  it('refuses an interface another port captures already (409), and nothing changes', async () => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'cap1', type: 'capture', interface: 'qvm1' }, LOCAL);
    const before = await t.state();
    await expect(t.primitives.addPort({ name: 'cap2', type: 'capture', interface: 'qvm1' }, LOCAL)).rejects.toMatchObject({ code: 'conflict', httpStatus: 409 });
    expect(await t.state()).toEqual(before);
  });

  it('refuses a port beyond the cap (409), counting device ports only', async () => {
    const t = await setUp({ maxPorts: 2 });
    await t.primitives.addPort({ name: 'p2', type: 'tap' }, LOCAL); // vm1 + p2; the link h2 does not count
    const before = await t.state();
    await expect(t.primitives.addPort({ name: 'p3', type: 'tap' }, LOCAL)).rejects.toMatchObject({ code: 'conflict', httpStatus: 409, name: 'TooManyPortsError' });
    expect(await t.state()).toEqual(before);
  });

  it.each(['fastpath', 'proxy:fastpath', 'policy:pin', 'proxy:policy:pin'])('refuses a policy (%s): 403 policy-forbidden, adding and deleting', async (name) => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    const before = await t.state();
    await expect(t.primitives.addPort({ name: 'x', type: 'tap' }, { name })).rejects.toMatchObject({ code: 'policy-forbidden', httpStatus: 403 });
    await expect(t.primitives.deletePort('qvm1', { name })).rejects.toMatchObject({ code: 'policy-forbidden', httpStatus: 403 });
    expect(await t.state()).toEqual(before);
  });

  it.each([
    ['a TAP name held elsewhere', new TapNameTakenError({ device: 'x', errno: 16, syscall: 'ioctl(TUNSETIFF)' }), { code: 'tap-name-taken', httpStatus: 409 }],
    ['no CAP_NET_ADMIN', new TapPermissionError({ device: 'x', errno: 1, syscall: 'open' }), { code: 'tap-permission', httpStatus: 403 }],
    ['an interface gone since the check', new InterfaceNotFoundError({ device: 'qvm1', errno: 19, syscall: 'bind' }), { code: 'interface-not-found', httpStatus: 400, field: 'interface' }],
    ['an interface down', new InterfaceDownError({ device: 'qvm1' }), { code: 'interface-down', httpStatus: 409 }],
    ['the kernel refusing', new PortOpenError({ device: 'x', errno: 22, syscall: 'ioctl(SIOCSIFMTU)' }), { code: 'port-open-failed', httpStatus: 409 }],
  ])('a device that does not open (%s) is a clear API error, never a 500, and nothing changes', async (_what, error, expected) => {
    const t = await setUp();
    const before = await t.state();
    t.failure.error = error;
    const input: PortInput = expected.code.startsWith('interface-') ? { name: 'x', type: 'capture', interface: 'qvm1' } : { name: 'x', type: 'tap' };
    await expect(t.primitives.addPort(input, LOCAL)).rejects.toMatchObject(expected);
    expect(await t.state()).toEqual(before);
  });

  it('an error that is not a device error is not dressed up as one', async () => {
    const t = await setUp();
    t.failure.error = new TypeError('a bug');
    await expect(t.primitives.addPort({ name: 'x', type: 'tap' }, LOCAL)).rejects.toBeInstanceOf(TypeError);
  });

  it("deletes a port: its MACs are forgotten at once, its device closed, the flow table flushed; port-deleted is raised", async () => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    const qvm1 = t.opened.get('qvm1')!;
    qvm1.inject([ethernetFrame({ src: testMac(0xc), dst: BROADCAST_MAC })]);
    expect(t.core.macEntries(t.clock.now()).map((m) => m.portName)).toEqual(['vm1', 'qvm1']);
    let flushes = 0;
    t.core.onChange = () => flushes++;
    t.events.length = 0;
    await t.primitives.deletePort('qvm1', LOCAL);
    expect(t.core.macEntries(t.clock.now()).map((m) => m.portName)).toEqual(['vm1']);
    expect(flushes).toBeGreaterThan(0);
    expect(t.datapath.get('qvm1')).toBeUndefined();
    expect((await t.primitives.ports()).map((p) => p.name)).toEqual(['vm1', 'h2']);
    expect(t.events).toEqual([{ type: 'port-deleted', port: 'qvm1', rules: 0, by: 'local' }]);
    // Its device is closed: the "VM" sends, nothing arrives; a frame toward its old MAC floods, never reaching it.
    t.vm1.sent.length = 0;
    qvm1.inject([ethernetFrame({ src: testMac(0xc), dst: testMac(0xa) })]);
    expect(t.vm1.sent).toHaveLength(0);
    t.vm1.inject([ethernetFrame({ src: testMac(0xa), dst: testMac(0xc) })]);
    expect(qvm1.sent).toHaveLength(0);
  });

  it('refuses deleting what is not there (404) or a link (409 pointing at links), and nothing changes', async () => {
    const t = await setUp();
    const before = await t.state();
    await expect(t.primitives.deletePort('nope', LOCAL)).rejects.toMatchObject({ code: 'not-found', httpStatus: 404 });
    const link = await refusal(t.primitives.deletePort('h2', LOCAL));
    expect(link).toMatchObject({ code: 'conflict', httpStatus: 409 });
    expect((link as Error).message).toContain('/v1/links/h2');
    expect(await t.state()).toEqual(before);
  });

  it("refuses deleting a port that an operator's rule targets (409 port-in-use naming the rules), and nothing changes", async () => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    const r1 = await t.primitives.addRule({ src: 'any', dst: formatMac(testMac(0xc)), target: 'qvm1' }, LOCAL);
    const r2 = await t.primitives.addRule({ src: formatMac(testMac(0xa)), dst: 'any', target: 'qvm1' }, { name: 'ops' });
    await t.primitives.addRule({ src: 'any', dst: 'any', target: 'vm1' }, LOCAL); // toward another port: no matter
    const before = await t.state();
    await expect(t.primitives.deletePort('qvm1', LOCAL)).rejects.toMatchObject({ code: 'port-in-use', httpStatus: 409, rules: [r1.id, r2.id] });
    expect(await t.state()).toEqual(before);
    await t.primitives.deleteRule(r1.id, LOCAL);
    await t.primitives.deleteRule(r2.id, LOCAL);
    await t.primitives.deletePort('qvm1', LOCAL);
  });

  it("takes a policy's rules toward the port with it (rule-deleted by the deleting actor)", async () => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    const policyRule = await t.primitives.addRule({ src: 'any', dst: formatMac(testMac(0xc)), target: 'qvm1' }, { name: 'policy:pin' });
    const other = await t.primitives.addRule({ src: 'any', dst: formatMac(testMac(0xd)), target: 'vm1' }, { name: 'policy:pin' });
    t.events.length = 0;
    await t.primitives.deletePort('qvm1', { name: 'libvirt' });
    expect((await t.primitives.rules()).map((r) => r.id)).toEqual([other.id]);
    expect(t.events).toEqual([
      { type: 'rule-deleted', rule: policyRule.id, by: 'libvirt' },
      { type: 'port-deleted', port: 'qvm1', rules: 1, by: 'libvirt' },
    ]);
  });

  it("refuses deleting a port the star's default rule leads to (star-protected)", async () => {
    const t = await setUp();
    t.core.rules.insert({ src: 'any', dst: 'none', target: 'vm1', owner: 'star' });
    const before = await t.state();
    await expect(t.primitives.deletePort('vm1', LOCAL)).rejects.toMatchObject({ code: 'star-protected', httpStatus: 409 });
    expect(await t.state()).toEqual(before);
  });

  it('a port added again after its delete is a new port (fresh counters, no old MACs)', async () => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    t.opened.get('qvm1')!.inject([ethernetFrame({ src: testMac(0xc), dst: BROADCAST_MAC })]);
    await t.primitives.deletePort('qvm1', LOCAL);
    const again = await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    expect(again.rxFrames).toBe(0);
    expect(t.core.macEntries(t.clock.now()).map((m) => m.portName)).toEqual(['vm1']);
  });
});

describe('frames toward a port that cannot take them are counted, not lost', () => {
  it("a rule toward a port whose device failed: counted 'out-port-down' on the in-port", async () => {
    const t = await setUp();
    await t.primitives.addPort({ name: 'qvm1', type: 'capture', interface: 'qvm1' }, LOCAL);
    await t.primitives.addRule({ src: 'any', dst: formatMac(testMac(0xc)), target: 'qvm1' }, LOCAL);
    t.opened.get('qvm1')!.fail(new Error('ENODEV'));
    t.vm1.inject([ethernetFrame({ src: testMac(0xa), dst: testMac(0xc) })]);
    const vm1 = (await t.primitives.ports()).find((p) => p.name === 'vm1')!;
    expect(vm1.drops['out-port-down']).toBe(1);
  });
});
