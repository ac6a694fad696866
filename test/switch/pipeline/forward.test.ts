import { describe, expect, it } from 'vitest';
import { BROADCAST_MAC } from '../../../switch/frame/mac.js';
import { NEW_MAC, SwitchCore } from '../../../switch/pipeline/forward.js';
import { arpRequest, ethernetFrame, testMac } from '../../support/frames.js';

const VM1 = testMac(1);
const VM2 = testMac(2);
const VM3 = testMac(3);

/** vm1, vm2 (local TAPs), proxy (star link, floods), fast (fast-path link, does not flood). */
function fourPorts(options?: ConstructorParameters<typeof SwitchCore>[0]) {
  const core = new SwitchCore(options);
  const vm1 = core.addPort({ name: 'vm1', floods: true });
  const vm2 = core.addPort({ name: 'vm2', floods: true });
  const proxy = core.addPort({ name: 'proxy', floods: true });
  const fast = core.addPort({ name: 'fast', floods: false });
  return { core, vm1, vm2, proxy, fast };
}

const frame = (src: number, dst: number, payloadBytes = 46) => ethernetFrame({ src, dst, payloadBytes });

describe('SwitchCore.forward', () => {
  it('1. drops malformed frames with the reason, counted on the in-port', () => {
    const { core, vm1 } = fourPorts();
    expect(core.forward(new Uint8Array(10), vm1, 0)).toEqual({ kind: 'drop', reason: 'runt' });
    expect(core.forward(frame(0, VM2), vm1, 0)).toEqual({ kind: 'drop', reason: 'source-zero' });
    const stats = core.stats().ports.find((p) => p.id === vm1)!;
    expect(stats.drops).toMatchObject({ runt: 1, 'source-zero': 1, hairpin: 0 });
    expect(stats.rxFrames).toBe(2);
    expect(core.macTable.size).toBe(0);
  });

  it('honours maxFrameBytes', () => {
    const { core, vm1 } = fourPorts({ maxFrameBytes: 100 });
    expect(core.forward(frame(VM1, VM2, 87), vm1, 0)).toEqual({ kind: 'drop', reason: 'oversize' });
  });

  it('2+3. learns the source; broadcast floods to every flooding port but the in-port', () => {
    const { core, vm1, vm2, proxy } = fourPorts();
    const decision = core.forward(arpRequest(VM1, '198.19.0.1', '198.19.0.2'), vm1, 0);
    expect(decision).toEqual({ kind: 'flood', ports: [vm2, proxy] });
    expect(core.macTable.lookup(VM1, 0)).toBe(vm1);
    expect(core.forward(frame(VM3, 0x01005e000001), proxy, 0)).toEqual({ kind: 'flood', ports: [vm1, vm2] });
  });

  it('2. tells onLearned of a MAC new or moved (with its old port and whether the frame went to a group), never of a refresh', () => {
    const { core, vm1, vm2, proxy } = fourPorts();
    const seen: [number, number, number, boolean, number][] = [];
    core.onLearned = (mac, port, fromPort, toGroup, nowMs) => seen.push([mac, port, fromPort, toGroup, nowMs]);
    core.forward(frame(VM1, VM2), vm1, 1);
    core.forward(frame(VM1, VM2), vm1, 2); // refresh
    core.forward(arpRequest(VM1, '198.19.0.1', '198.19.0.1'), proxy, 3); // moved, on a broadcast
    core.forward(frame(VM1, VM3), vm2, 4); // moved, on unicast
    core.macTable.addStatic(VM3, vm1);
    core.forward(frame(VM3, VM1), vm2, 5); // static: not learned
    expect(seen).toEqual([
      [VM1, vm1, NEW_MAC, false, 1],
      [VM1, proxy, vm1, true, 3],
      [VM1, vm2, proxy, false, 4],
    ]);
  });

  it('multicast floods even when a rule would match the destination', () => {
    const { core, vm1 } = fourPorts();
    core.rules.insert({ src: 'any', dst: 'any', target: 'fast' });
    expect(core.forward(frame(VM1, BROADCAST_MAC), vm1, 0).kind).toBe('flood');
  });

  it('7. unknown unicast floods; 5. once learned it goes straight to the port', () => {
    const { core, vm1, vm2, proxy } = fourPorts();
    expect(core.forward(frame(VM1, VM2), vm1, 0)).toEqual({ kind: 'flood', ports: [vm2, proxy] });
    expect(core.forward(frame(VM2, VM1), vm2, 1)).toEqual({ kind: 'output', port: vm1 });
    expect(core.forward(frame(VM1, VM2), vm1, 2)).toEqual({ kind: 'output', port: vm2 });
    expect(core.stats().ports.find((p) => p.id === vm1)!.floodedFrames).toBe(1);
  });

  it('5. a destination learned on the in-port is filtered: same-port', () => {
    const { core, proxy } = fourPorts();
    core.forward(frame(VM3, VM1), proxy, 0);
    expect(core.forward(frame(testMac(4), VM3), proxy, 1)).toEqual({ kind: 'drop', reason: 'same-port' });
  });

  it('4. a non-default rule beats learning and counts its hits', () => {
    const { core, vm1, vm2, fast } = fourPorts();
    core.forward(frame(VM2, VM1), vm2, 0); // VM2 learned on vm2
    const rule = core.rules.insert({ src: VM1, dst: VM2, target: 'fast' });
    expect(core.forward(frame(VM1, VM2, 100), vm1, 1)).toEqual({ kind: 'output', port: fast });
    expect(core.rules.statsOf(rule.id)).toEqual({ id: rule.id, hitFrames: 1, hitBytes: 114 });
  });

  it('4. a rule that sends a frame back where it came from drops it: hairpin', () => {
    const { core, fast } = fourPorts();
    core.rules.insert({ src: 'any', dst: VM2, target: 'fast' });
    expect(core.forward(frame(VM1, VM2), fast, 0)).toEqual({ kind: 'drop', reason: 'hairpin' });
    expect(core.stats().ports.find((p) => p.id === fast)!.drops.hairpin).toBe(1);
  });

  it('6. learning beats the default rule; the default rule beats flooding', () => {
    const { core, vm1, vm2, proxy } = fourPorts();
    core.rules.insert({ src: 'any', dst: 'none', target: 'proxy' });
    expect(core.forward(frame(VM1, VM3), vm1, 0)).toEqual({ kind: 'output', port: proxy });
    core.forward(frame(VM2, VM1), vm2, 1);
    expect(core.forward(frame(VM1, VM2), vm1, 2)).toEqual({ kind: 'output', port: vm2 });
  });

  it('6. the default rule is subject to the hairpin check', () => {
    const { core, proxy } = fourPorts();
    core.rules.insert({ src: 'any', dst: 'none', target: 'proxy' });
    expect(core.forward(frame(VM3, VM1), proxy, 0)).toEqual({ kind: 'drop', reason: 'hairpin' });
  });

  it('a rule naming a missing port is skipped as if absent and counted', () => {
    const { core, vm1, vm2, proxy } = fourPorts();
    core.rules.insert({ src: VM1, dst: VM2, target: 'not-yet' });
    core.rules.insert({ src: 'any', dst: 'none', target: 'also-missing' });
    expect(core.forward(frame(VM1, VM2), vm1, 0)).toEqual({ kind: 'flood', ports: [vm2, proxy] });
    expect(core.stats().ruleTargetMissing).toBe(2);
    const late = core.addPort({ name: 'not-yet', floods: false });
    expect(core.forward(frame(VM1, VM2), vm1, 1)).toEqual({ kind: 'output', port: late });
  });

  it('drops frames from an unregistered in-port', () => {
    const { core } = fourPorts();
    expect(core.forward(frame(VM1, VM2), 42, 0)).toEqual({ kind: 'drop', reason: 'unknown-in-port' });
    expect(core.stats().unknownInPortDrops).toBe(1);
  });

  it('ages learned entries by nowMs: an idle destination floods again', () => {
    const { core, vm1, vm2, proxy } = fourPorts({ macIdleTimeMs: 1000 });
    core.forward(frame(VM2, VM1), vm2, 0);
    expect(core.forward(frame(VM1, VM2), vm1, 999)).toEqual({ kind: 'output', port: vm2 });
    expect(core.forward(frame(VM1, VM2), vm1, 1000)).toEqual({ kind: 'flood', ports: [vm2, proxy] });
  });

  it('sweeps aged entries from forward() at most every expireIntervalMs', () => {
    const { core, vm1, vm2 } = fourPorts({ macIdleTimeMs: 1000, expireIntervalMs: 500 });
    core.forward(frame(VM2, VM1), vm2, 0);
    core.forward(frame(testMac(9), VM1), vm2, 0);
    core.forward(frame(VM1, VM3), vm1, 1200); // sweep due: both vm2 entries are idle
    expect(core.macTable.stats().totalExpired).toBe(2);
  });

  it('expire() sweeps on demand; macEntries and portStats report by id', () => {
    const { core, vm1, vm2 } = fourPorts({ macIdleTimeMs: 1000 });
    core.forward(frame(VM2, VM1), vm2, 0);
    expect(core.macEntries(250)).toEqual([{ mac: VM2, port: vm2, portName: 'vm2', isStatic: false, ageMs: 250 }]);
    expect(core.expire(1000)).toBe(1);
    expect(core.macTableStats()).toMatchObject({ size: 0, totalExpired: 1 });
    expect(core.portStats(vm2)).toMatchObject({ name: 'vm2', rxFrames: 1 });
    expect(() => core.portStats(99)).toThrow(expect.objectContaining({ code: 'port-not-found' }));
    expect(core.portStats(vm1).rxFrames).toBe(0);
  });

  it('detects a MAC moving between ports', () => {
    const { core, vm1, proxy } = fourPorts();
    core.forward(frame(VM1, VM2), vm1, 0);
    core.forward(frame(VM1, VM2), proxy, 1);
    expect(core.macTable.lookup(VM1, 1)).toBe(proxy);
    expect(core.macTable.stats().totalMoved).toBe(1);
  });

  describe('ports', () => {
    it('rebuilds flood sets when ports come and go, and forgets their MACs', () => {
      const { core, vm1, vm2, proxy } = fourPorts();
      core.forward(frame(VM2, VM1), vm2, 0);
      core.macTable.addStatic(testMac(50), vm2);
      expect(core.removePort(vm2)).toBe(true);
      expect(core.macTable.size).toBe(0);
      expect(core.removePort(vm2)).toBe(false);
      expect(core.macTable.lookup(VM2, 0)).toBeUndefined();
      expect(core.forward(frame(VM1, VM2), vm1, 1)).toEqual({ kind: 'flood', ports: [proxy] });
      const vm4 = core.addPort({ name: 'vm2', floods: true });
      expect(vm4).not.toBe(vm2); // ids are never reused
      expect(core.forward(frame(VM1, VM2), vm1, 2)).toEqual({ kind: 'flood', ports: [proxy, vm4] });
      core.setFloods(proxy, false);
      expect(core.forward(frame(VM1, VM2), vm1, 3)).toEqual({ kind: 'flood', ports: [vm4] });
    });

    it('refuses duplicate and empty names', () => {
      const core = new SwitchCore();
      core.addPort({ name: 'a', floods: true });
      expect(() => core.addPort({ name: 'a', floods: true })).toThrow(
        expect.objectContaining({ code: 'port-exists', name: 'PortExistsError' }),
      );
      expect(() => core.addPort({ name: '', floods: true })).toThrow(
        expect.objectContaining({ code: 'port-name-invalid' }),
      );
      expect(core.portId('a')).toBe(0);
      expect(core.portName(0)).toBe('a');
    });

    it('a lone port floods to nobody', () => {
      const core = new SwitchCore();
      const only = core.addPort({ name: 'only', floods: true });
      expect(core.forward(frame(VM1, VM2), only, 0)).toEqual({ kind: 'flood', ports: [] });
    });
  });

  it('counts rx in forward and tx through countTx; stats are plain copies', () => {
    const { core, vm1, vm2 } = fourPorts();
    core.forward(frame(VM1, VM2, 46), vm1, 0);
    core.forward(frame(VM1, VM2, 86), vm1, 0);
    core.countTx(vm2, 2, 160);
    core.countTx(77, 1, 1); // unknown port: ignored
    const stats = core.stats();
    expect(stats.ports.find((p) => p.id === vm1)).toMatchObject({ name: 'vm1', rxFrames: 2, rxBytes: 160 });
    expect(stats.ports.find((p) => p.id === vm2)).toMatchObject({ rxFrames: 0, txFrames: 2, txBytes: 160 });
    stats.ports[0]!.drops.runt = 99;
    expect(core.stats().ports[0]!.drops.runt).toBe(0);
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
  });

  it('returns shared decision objects (no allocation per frame)', () => {
    const { core, vm1, vm2 } = fourPorts();
    core.forward(frame(VM2, VM1), vm2, 0);
    const first = core.forward(frame(VM1, VM2), vm1, 1);
    expect(core.forward(frame(VM1, VM2), vm1, 2)).toBe(first);
    const flood = core.forward(frame(VM1, VM3), vm1, 3);
    expect(core.forward(frame(VM1, testMac(77)), vm1, 4)).toBe(flood);
    expect(Object.isFrozen(flood) && Object.isFrozen(first)).toBe(true);
  });
});
