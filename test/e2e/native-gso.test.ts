/**
 * The addon's segmentation and coalescing (switch/port/addon/gso.h) against the oracle of test/support/gso-oracle.ts,
 * which builds every wire frame and super-frame field by field with its own RFC 1071 sum: segment(x) must be the
 * kernel's cut of x byte for byte, coalesce(segment(x)) must give x back, and every refusal rule must hold.
 * Loads the addon, so it is an e2e test (no root needed, no lab).
 */
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../switch/port/addon.js';
import { VNET_DROP_REASONS } from '../../switch/frame/vnet-header.js';
import {
  GSO_ECN,
  GSO_TCPV4,
  GSO_TCPV6,
  GSO_UDP_L4,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  VNET_NEEDS_CSUM,
  buildPacket,
  checksumsVerify,
  headerBytes,
  l2Bytes,
  l3HeaderBytes,
  randomFlow,
  randomPayload,
  seededRandom,
  superFrame,
  timestampOptions,
  vnetHeader,
  wireSegments,
  type FlowSpec,
} from '../support/gso-oracle.js';

const addon = loadAddon();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const reasonCode = (name: string): number => addon.gsoReasons.indexOf(name);

function segment(header: Uint8Array, frame: Uint8Array): Uint8Array[] | number {
  const out = new Uint8Array(256 * 1024);
  const lengths = new Uint32Array(1024);
  const n = addon.gsoSegment(header, frame, out, lengths);
  if (n < 0) return n;
  const frames: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    frames.push(out.slice(at, at + lengths[i]!));
    at += lengths[i]!;
  }
  return frames;
}

interface Output {
  header: Uint8Array;
  frame: Uint8Array;
}

function coalesce(frames: readonly Uint8Array[]): Output[] {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0) + 16);
  const lengths = new Uint32Array(frames.length);
  const headers = new Uint8Array(10 * frames.length);
  const n = addon.gsoCoalesce(frames, out, lengths, headers);
  expect(n).toBeGreaterThanOrEqual(0);
  const outputs: Output[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    outputs.push({ header: headers.slice(10 * i, 10 * i + 10), frame: out.slice(at, at + lengths[i]!) });
    at += lengths[i]!;
  }
  return outputs;
}

const tcpAt = (spec: FlowSpec): number => l2Bytes(spec) + l3HeaderBytes(spec);
const seqOf = (spec: FlowSpec, f: Uint8Array): number => new DataView(f.buffer, f.byteOffset).getUint32(tcpAt(spec) + 4);
const flagsOf = (spec: FlowSpec, f: Uint8Array): number => f[tcpAt(spec) + 13]!;
const ipIdOf = (spec: FlowSpec, f: Uint8Array): number => new DataView(f.buffer, f.byteOffset).getUint16(l2Bytes(spec) + 4);

/** A random super-frame case: mss, payload (more than one segment), flags. */
function randomCase(seed: number): { spec: FlowSpec; payload: Uint8Array; mss: number; kernelHdrLen: number } {
  const random = seededRandom(seed);
  const int = (n: number): number => Math.floor(random() * n);
  let flags = TCP_ACK | (random() < 0.5 ? TCP_PSH : 0);
  if (random() < 0.15) flags |= TCP_FIN;
  if (random() < 0.15) flags |= TCP_CWR | TCP_ECE;
  const spec = randomFlow(random, { tcpFlags: flags });
  const mss = [88, 536, 1220, 1368, 1448, 1460, 8948][int(7)]!;
  const room = 65535 - (headerBytes(spec) - l2Bytes(spec));
  const segments = Math.min(2 + int(60), Math.floor(room / mss));
  const length = Math.min(room, mss * (segments - 1) + 1 + int(mss));
  const payload = randomPayload(random, length);
  return { spec, payload, mss, kernelHdrLen: headerBytes(spec) + int(length) };
}

describe('native GSO (gso.h) against the oracle', () => {
  it('names its reasons as switch/frame/vnet-header.ts does', () => {
    expect(addon.gsoReasons).toEqual(['ok', ...VNET_DROP_REASONS]);
  });

  it('segments TCP super-frames (IPv4/IPv6, 0–2 VLAN tags, timestamps, PSH/FIN/CWR) exactly as the kernel', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { spec, payload, mss, kernelHdrLen } = randomCase(seed);
      const x = superFrame(spec, payload, mss, kernelHdrLen);
      if (spec.tcpFlags & TCP_CWR) x.header[1]! |= GSO_ECN;
      const got = segment(x.header, x.frame);
      const want = wireSegments(spec, payload, mss);
      expect(Array.isArray(got), `seed ${seed}: refused with ${String(got)}`).toBe(true);
      const frames = got as Uint8Array[];
      expect(frames.map(hex), `seed ${seed}`).toEqual(want.map(hex));
      // The same checks, field by field, read back from the addon's frames with the oracle's own sum.
      frames.forEach((f, i) => {
        const isLast = i === frames.length - 1;
        expect(checksumsVerify(spec, f), `seed ${seed} segment ${i}: checksums`).toBe(true);
        expect(seqOf(spec, f)).toBe((spec.seq + i * mss) >>> 0);
        if (!spec.isIpv6) expect(ipIdOf(spec, f)).toBe((spec.ipId + i) & 0xffff);
        expect(flagsOf(spec, f) & (TCP_FIN | TCP_PSH)).toBe(isLast ? spec.tcpFlags & (TCP_FIN | TCP_PSH) : 0);
        expect(flagsOf(spec, f) & TCP_CWR).toBe(i === 0 ? spec.tcpFlags & TCP_CWR : 0);
        expect(f.length).toBeLessThanOrEqual(headerBytes(spec) + mss);
      });
    }
  });

  it('cuts the same segments into fixed-size slots (the seal slots of a link), and refuses slots too small', () => {
    const stride = 2048;
    for (let seed = 1; seed <= 300; seed++) {
      const { spec, payload, mss, kernelHdrLen } = randomCase(seed);
      const x = superFrame(spec, payload, mss, kernelHdrLen);
      if (spec.tcpFlags & TCP_CWR) x.header[1]! |= GSO_ECN;
      const packed = segment(x.header, x.frame) as Uint8Array[];
      const largest = Math.max(...packed.map((f) => f.length));
      const out = new Uint8Array(packed.length * stride);
      const lengths = new Uint32Array(1024);
      if (largest > stride) {
        expect(addon.gsoSegment(x.header, x.frame, out, lengths, stride), `seed ${seed}`).toBe(-addon.gsoReasons.length);
        continue;
      }
      expect(addon.gsoSegment(x.header, x.frame, out, lengths, stride), `seed ${seed}`).toBe(packed.length);
      const slots = packed.map((_, i) => out.slice(i * stride, i * stride + lengths[i]!));
      expect(slots.map(hex), `seed ${seed}`).toEqual(packed.map(hex));
      expect(addon.gsoSegment(x.header, x.frame, out, lengths, largest - 1), `seed ${seed}`).toBe(-addon.gsoReasons.length);
      expect(addon.gsoSegment(x.header, x.frame, out.subarray(1), lengths, stride), `seed ${seed}`).toBe(
        -addon.gsoReasons.length,
      );
    }
  });

  it('coalesce(segment(x)) == x: the super-frame and its normalized header come back', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { spec, payload, mss, kernelHdrLen } = randomCase(seed);
      spec.tcpFlags &= ~(TCP_FIN | TCP_CWR | TCP_ECE);
      const x = superFrame(spec, payload, mss, kernelHdrLen);
      const outputs = coalesce(segment(x.header, x.frame) as Uint8Array[]);
      expect(outputs.length, `seed ${seed}`).toBe(1);
      expect(hex(outputs[0]!.header), `seed ${seed}: header`).toBe(hex(x.normalized));
      expect(hex(outputs[0]!.frame), `seed ${seed}: frame`).toBe(hex(x.frame));
    }
  });

  it('a FIN segment goes out alone after the super-frame; a CWR one alone before it', () => {
    const random = seededRandom(7);
    for (const extra of [TCP_FIN, TCP_CWR]) {
      const spec = randomFlow(random, { tcpFlags: TCP_ACK | extra, isIpv6: false, vlanTags: [5] });
      const payload = randomPayload(random, 1448 * 5);
      const outputs = coalesce(wireSegments(spec, payload, 1448));
      expect(outputs.map((o) => o.header[1])).toEqual(extra === TCP_FIN ? [GSO_TCPV4, 0] : [0, GSO_TCPV4]);
      const merged = outputs[extra === TCP_FIN ? 0 : 1]!;
      expect(merged.frame.length).toBe(headerBytes(spec) + 1448 * 4);
    }
  });

  it('segments UDP (USO) super-frames: lengths, ids and complete checksums', () => {
    for (let seed = 400; seed < 460; seed++) {
      const random = seededRandom(seed);
      const spec = randomFlow(random, { protocol: 'udp' });
      const mss = 1000 + Math.floor(random() * 472);
      const payload = randomPayload(random, mss * 3 + Math.floor(random() * mss));
      const x = superFrame(spec, payload, mss);
      expect(x.header[1]).toBe(GSO_UDP_L4);
      const got = segment(x.header, x.frame) as Uint8Array[];
      expect(got.map(hex), `seed ${seed}`).toEqual(wireSegments(spec, payload, mss).map(hex));
      for (const f of got) expect(checksumsVerify(spec, f)).toBe(true);
    }
  });

  it('completes the checksum of a frame with NEEDS_CSUM and no GSO (one frame out)', () => {
    const random = seededRandom(11);
    for (const protocol of ['tcp', 'udp'] as const) {
      const spec = randomFlow(random, { protocol });
      const payload = randomPayload(random, 700);
      const partial = buildPacket(spec, payload, { seq: spec.seq, ipId: spec.ipId, tcpFlags: spec.tcpFlags, checksum: 'partial' });
      const full = buildPacket(spec, payload, { seq: spec.seq, ipId: spec.ipId, tcpFlags: spec.tcpFlags, checksum: 'full' });
      const csumStart = tcpAt(spec);
      const header = vnetHeader({ flags: VNET_NEEDS_CSUM, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart, csumOffset: protocol === 'tcp' ? 16 : 6 });
      expect((segment(header, partial) as Uint8Array[]).map(hex)).toEqual([hex(full)]);
      // No header work: the frame as it is.
      expect((segment(new Uint8Array(10), full) as Uint8Array[]).map(hex)).toEqual([hex(full)]);
    }
  });

  it('refuses bad headers with their fixed reasons, and normalizes good ones', () => {
    const random = seededRandom(3);
    const spec = randomFlow(random, { isIpv6: false, vlanTags: [], tcpOptions: timestampOptions(1, 2) });
    const x = superFrame(spec, randomPayload(random, 4000), 1448, 9999);
    const out = new Uint8Array(10);
    expect(addon.vnetCheck(x.header, x.frame, out)).toBe(0);
    expect(hex(out)).toBe(hex(x.normalized));
    const csumStart = tcpAt(spec);
    const bad = (patch: Partial<Parameters<typeof vnetHeader>[0]>): Uint8Array =>
      vnetHeader({ flags: VNET_NEEDS_CSUM, gsoType: GSO_TCPV4, hdrLen: 0, gsoSize: 1448, csumStart, csumOffset: 16, ...patch });
    const cases: [string, Uint8Array, Uint8Array][] = [
      ['vnet-short', x.header.subarray(0, 9), x.frame],
      ['vnet-flags', bad({ flags: VNET_NEEDS_CSUM | 4 }), x.frame],
      ['vnet-gso-type', bad({ gsoType: 3 }), x.frame], // UFO
      ['vnet-gso-type', bad({ gsoType: 9 }), x.frame],
      ['vnet-gso-type', bad({ gsoType: GSO_UDP_L4 | GSO_ECN, csumOffset: 6 }), x.frame],
      ['vnet-checksum', bad({ csumStart: 10 }), x.frame],
      ['vnet-checksum', bad({ csumStart: x.frame.length - 1, csumOffset: 0 }), x.frame],
      ['vnet-checksum', bad({ gsoType: 0, csumStart: 14, csumOffset: 0xffff }), x.frame],
      ['vnet-gso-headers', bad({ flags: 0 }), x.frame],
      ['vnet-gso-headers', bad({ gsoType: GSO_TCPV6 }), x.frame],
      ['vnet-gso-headers', bad({ gsoType: GSO_UDP_L4, csumOffset: 6 }), x.frame],
      ['vnet-gso-headers', bad({ csumStart: csumStart + 4 }), x.frame],
      ['vnet-gso-headers', bad({ csumOffset: 6 }), x.frame],
      ['vnet-gso-headers', bad({}), x.frame.subarray(0, x.frame.length - 1)], // IP length ≠ the frame's
      ['vnet-gso-size', bad({ gsoSize: 0 }), x.frame],
      ['vnet-gso-size', bad({ gsoSize: 1 }), x.frame], // 4000 segments
    ];
    for (const [reason, header, frame] of cases) {
      expect(addon.vnetCheck(header, frame, out), reason).toBe(reasonCode(reason));
      expect(addon.gsoSegment(header, frame, new Uint8Array(300_000), new Uint32Array(1024)), reason).toBe(-reasonCode(reason));
    }
    // Not enough room is its own answer (past the last reason).
    expect(addon.gsoSegment(x.header, x.frame, new Uint8Array(100), new Uint32Array(1024))).toBe(-addon.gsoReasons.length);
    expect(addon.gsoSegment(x.header, x.frame, new Uint8Array(300_000), new Uint32Array(2))).toBe(-addon.gsoReasons.length);
  });
});

describe('native coalescing refuses what the kernel refuses', () => {
  const random = seededRandom(99);
  const base = (overrides: Partial<FlowSpec> = {}): FlowSpec =>
    randomFlow(random, { isIpv6: false, vlanTags: [42], tcpFlags: TCP_ACK, isDf: true, tcpOptions: timestampOptions(5, 6), ...overrides });
  const pair = (spec: FlowSpec, second: FlowSpec = spec, mss = 1000): Uint8Array[] => {
    const a = wireSegments(spec, randomPayload(random, mss), mss)[0]!;
    const b = buildPacket(second, randomPayload(random, mss), {
      seq: (second.seq + mss) >>> 0,
      ipId: (second.ipId + 1) & 0xffff,
      tcpFlags: second.tcpFlags,
      checksum: 'full',
    });
    return [a, b];
  };
  const merges = (frames: Uint8Array[]): number[] => coalesce(frames).map((o) => o.header[1]!);

  it('merges the plain pair it is given (the control case)', () => {
    expect(merges(pair(base()))).toEqual([GSO_TCPV4]);
    expect(merges(pair(base({ isIpv6: true, srcIp: new Uint8Array(16).fill(1), dstIp: new Uint8Array(16).fill(2) })))).toEqual([GSO_TCPV6]);
    expect(merges(pair(base({ tcpOptions: undefined })))).toEqual([GSO_TCPV4]);
    expect(merges(pair(base({ isDf: false })))).toEqual([GSO_TCPV4]);
  });

  it('refuses a different flow: MACs, VLAN, addresses, ports, ack', () => {
    const spec = base();
    const other = (patch: Partial<FlowSpec>): number[] => merges(pair(spec, { ...spec, ...patch }));
    expect(other({ dst: Uint8Array.of(2, 9, 9, 9, 9, 9) })).toEqual([0, 0]);
    expect(other({ src: Uint8Array.of(2, 8, 8, 8, 8, 8) })).toEqual([0, 0]);
    expect(other({ vlanTags: [43] })).toEqual([0, 0]);
    expect(other({ vlanTags: [] })).toEqual([0, 0]);
    expect(other({ srcIp: Uint8Array.of(10, 0, 0, 9) })).toEqual([0, 0]);
    expect(other({ dstPort: (spec.dstPort % 65535) + 1 })).toEqual([0, 0]);
    expect(other({ ack: (spec.ack + 1) >>> 0 })).toEqual([0, 0]);
  });

  it('refuses IP fields that differ: TOS, TTL, DF, ids that do not count up without DF', () => {
    const spec = base({ isDf: false });
    expect(merges(pair(spec, { ...spec, tos: (spec.tos + 4) & 0xff }))).toEqual([0, 0]);
    expect(merges(pair(spec, { ...spec, ttl: (spec.ttl % 255) + 1 }))).toEqual([0, 0]);
    expect(merges(pair(spec, { ...spec, isDf: true }))).toEqual([0, 0]);
    expect(merges(pair(spec, { ...spec, ipId: spec.ipId + 5 }))).toEqual([0, 0]);
  });

  it('refuses TCP flags other than ACK and ACK|PSH, a window change, a sequence gap', () => {
    const spec = base();
    for (const flag of [TCP_SYN, TCP_FIN, TCP_RST, TCP_URG, TCP_CWR, TCP_ECE]) {
      expect(merges(pair(spec, { ...spec, tcpFlags: TCP_ACK | flag })), `flag ${flag}`).toEqual([0, 0]);
    }
    expect(merges(pair(spec, { ...spec, window: (spec.window + 1) & 0xffff }))).toEqual([0, 0]);
    expect(merges(pair(spec, { ...spec, seq: (spec.seq + 1) >>> 0 }))).toEqual([0, 0]);
  });

  it('refuses IP options, TCP options other than timestamps, and unequal timestamps', () => {
    const options = base({ ipOptions: Uint8Array.of(1, 1, 1, 0) });
    expect(merges(pair(options))).toEqual([0, 0]);
    const mssOption = base({ tcpOptions: Uint8Array.of(2, 4, 5, 0xb4) });
    expect(merges(pair(mssOption))).toEqual([0, 0]);
    const sack = base({ tcpOptions: Uint8Array.of(1, 1, 4, 2) });
    expect(merges(pair(sack))).toEqual([0, 0]);
    const spec = base();
    expect(merges(pair(spec, { ...spec, tcpOptions: timestampOptions(5, 7) }))).toEqual([0, 0]);
  });

  it('refuses a segment whose checksum does not verify, and a first segment that does not', () => {
    const spec = base();
    const frames = pair(spec);
    frames[1]![frames[1]!.length - 1]! ^= 0x40;
    expect(merges(frames)).toEqual([0, 0]);
    const first = pair(spec);
    first[0]![first[0]!.length - 3]! ^= 0x01;
    expect(merges(first)).toEqual([0, 0]);
    const ipv4 = pair(spec);
    ipv4[1]![l2Bytes(spec) + 10]! ^= 0x10; // the IPv4 header checksum, broken
    expect(merges(ipv4)).toEqual([0, 0]);
  });

  it('never glues a pure ACK, nor after a short segment, nor a larger one after a smaller, nor past PSH', () => {
    const spec = base();
    const ack = buildPacket(spec, new Uint8Array(0), { seq: spec.seq, ipId: spec.ipId, tcpFlags: TCP_ACK, checksum: 'full' });
    expect(merges([ack, ack])).toEqual([0, 0]);
    const payload = randomPayload(random, 2500);
    // 1000, 1000, 500: one super-frame; then 500-byte segments only start new ones.
    expect(merges(wireSegments(spec, payload, 1000))).toEqual([GSO_TCPV4]);
    const short = wireSegments(spec, payload.subarray(0, 1300), 1000); // 1000, 300
    const after = buildPacket(spec, randomPayload(random, 300), { seq: (spec.seq + 1300) >>> 0, ipId: spec.ipId + 2, tcpFlags: TCP_ACK, checksum: 'full' });
    expect(merges([...short, after])).toEqual([GSO_TCPV4, 0]);
    const small = wireSegments(spec, payload.subarray(0, 500), 500)[0]!;
    const larger = buildPacket(spec, randomPayload(random, 1000), { seq: (spec.seq + 500) >>> 0, ipId: spec.ipId + 1, tcpFlags: TCP_ACK, checksum: 'full' });
    expect(merges([small, larger])).toEqual([0, 0]);
    const pushed = { ...spec, tcpFlags: TCP_ACK | TCP_PSH };
    const psh = buildPacket(pushed, randomPayload(random, 1000), { seq: spec.seq, ipId: spec.ipId, tcpFlags: TCP_ACK | TCP_PSH, checksum: 'full' });
    const next = buildPacket(spec, randomPayload(random, 1000), { seq: (spec.seq + 1000) >>> 0, ipId: spec.ipId + 1, tcpFlags: TCP_ACK, checksum: 'full' });
    expect(merges([psh, next])).toEqual([0, 0]);
    // PSH on the last: merged, and the super-frame carries it.
    const [a] = wireSegments(spec, payload.subarray(0, 1000), 1000);
    const last = buildPacket(pushed, randomPayload(random, 1000), { seq: (spec.seq + 1000) >>> 0, ipId: spec.ipId + 1, tcpFlags: TCP_ACK | TCP_PSH, checksum: 'full' });
    const out = coalesce([a!, last]);
    expect(out.map((o) => o.header[1])).toEqual([GSO_TCPV4]);
    expect(flagsOf(spec, out[0]!.frame)).toBe(TCP_ACK | TCP_PSH);
  });

  it('keeps flows apart when they interleave, each super-frame where its first segment was', () => {
    const a = base();
    const b = base({ srcPort: (a.srcPort % 65535) + 1 });
    const sa = wireSegments(a, randomPayload(random, 3000), 1000);
    const sb = wireSegments(b, randomPayload(random, 3000), 1000);
    const other = buildPacket(a, new Uint8Array(0), { seq: 1, ipId: 1, tcpFlags: TCP_ACK | TCP_SYN, checksum: 'full' });
    const outputs = coalesce([sa[0]!, sb[0]!, other, sa[1]!, sb[1]!, sa[2]!, sb[2]!]);
    expect(outputs.map((o) => o.header[1])).toEqual([GSO_TCPV4, GSO_TCPV4, 0]);
    expect(hex(outputs[0]!.frame)).toBe(hex(superFrame(a, concat(sa.map((s) => s.subarray(headerBytes(a)))), 1000).frame));
    expect(hex(outputs[2]!.frame)).toBe(hex(other));
  });
});

describe('native GSO on hostile input (a VM writes the header)', () => {
  it('never crashes nor over-runs on random and mutated headers and frames; what it takes, it cuts consistently', () => {
    const random = seededRandom(2024);
    const int = (n: number): number => Math.floor(random() * n);
    const out = new Uint8Array(300_000);
    const lengths = new Uint32Array(1024);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const spec = randomFlow(random, { protocol: random() < 0.8 ? 'tcp' : 'udp' });
      const mss = 1 + int(2000);
      const x = superFrame(spec, randomPayload(random, int(20_000)), mss, int(70_000));
      const header = random() < 0.3 ? Uint8Array.from({ length: 10 }, () => int(256)) : x.header;
      let frame = x.frame;
      // Mutate: flip bytes in the headers, cut the frame short, or make it garbage.
      const mutation = int(4);
      if (mutation === 1) for (let k = 0; k < 3; k++) frame[int(Math.min(frame.length, 100))]! ^= 1 << int(8);
      if (mutation === 2) frame = frame.subarray(0, int(frame.length));
      if (mutation === 3) frame = randomPayload(random, int(2000));
      const n = addon.gsoSegment(header, frame, out, lengths);
      expect(n).toBeGreaterThanOrEqual(-addon.gsoReasons.length);
      expect(n).not.toBe(0);
      if (n < 0) continue;
      accepted++;
      const normalized = new Uint8Array(10);
      expect(addon.vnetCheck(header, frame, normalized)).toBe(0);
      const view = new DataView(normalized.buffer);
      const hdrLen = view.getUint16(2, true);
      const gsoSize = view.getUint16(4, true);
      const total = Array.from(lengths.subarray(0, n)).reduce((a, b) => a + b, 0);
      if (normalized[1] === 0) {
        expect(n).toBe(1);
        expect(total).toBe(frame.length);
      } else {
        expect(total).toBe(frame.length + (n - 1) * hdrLen);
        for (let k = 0; k < n; k++) expect(lengths[k]).toBeLessThanOrEqual(hdrLen + gsoSize);
      }
    }
    expect(accepted).toBeGreaterThan(300); // the mutations still let real super-frames through
  });

  it('coalesces random batches without losing or inventing a byte', () => {
    const random = seededRandom(77);
    for (let i = 0; i < 200; i++) {
      const spec = randomFlow(random);
      const segments = wireSegments(spec, randomPayload(random, 1 + Math.floor(random() * 30_000)), 536 + Math.floor(random() * 1000));
      const batch = segments.map((f) => (random() < 0.1 ? Uint8Array.from(f, (b, k) => (k === f.length - 1 ? b ^ 1 : b)) : f));
      if (random() < 0.3) batch.push(randomPayload(random, 14 + Math.floor(random() * 200)));
      const outputs = coalesce(batch);
      const payload = (f: Uint8Array): number => f.length - headerBytes(spec);
      const inBytes = batch.reduce((n, f) => n + f.length, 0);
      const outBytes = outputs.reduce((n, o) => n + o.frame.length, 0);
      // A super-frame of k segments keeps one copy of the headers: what it saves is (k − 1) × headers.
      const saved = outputs.reduce((n, o) => {
        if (o.header[1] === 0) return n;
        const gsoSize = new DataView(o.header.buffer).getUint16(4, true);
        return n + (Math.ceil(payload(o.frame) / gsoSize) - 1) * headerBytes(spec);
      }, 0);
      expect(outBytes + saved).toBe(inBytes);
    }
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}
