/**
 * Ethernet frames → the switch core's per-frame path: inspectFrame (switch/frame/ethernet.ts) and
 * SwitchCore.forward (switch/pipeline/forward.ts) on a core with flooding and non-flooding ports, explicit and
 * default rules (one naming a port that does not exist) and a small MAC table (evictions, moves).
 *
 * Oracle: forward never throws and returns an output to another registered port, a flood to registered
 * flooding ports other than the in-port, or a drop with a known reason; inspectFrame agrees with the bytes
 * (header 14/18/22 within the frame, source unicast and non-zero); the MAC table stays within its bound.
 */
import { DEFAULT_MAX_FRAME_BYTES, FRAME_DROP_REASONS, inspectFrame, type FrameDropReason } from '../../../../switch/frame/ethernet.js';
import { BROADCAST_MAC, isMulticast, readMac, writeMac } from '../../../../switch/frame/mac.js';
import { DROP_REASONS, type DropReason } from '../../../../switch/pipeline/decision.js';
import { SwitchCore } from '../../../../switch/pipeline/forward.js';
import { mutateBytes } from '../mutate.js';
import type { Rng } from '../rng.js';
import { bytesCodec, check, type FuzzTarget } from '../target.js';

const MAC_MAX_ENTRIES = 64;
/** Port names; "gone" is a rule target that is never registered. */
const PORTS = [
  { name: 'tap0', floods: true },
  { name: 'tap1', floods: true },
  { name: 'link-h2', floods: true },
  { name: 'link-h3', floods: false },
];
const MACS = [0x02_00_00_00_00_01, 0x02_00_00_00_00_02, 0x02_00_00_00_00_03, 0x52_54_00_12_34_56, 0x02_00_c6_13_01_01];
const TYPES = [0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x05ff, 0x0600, 0x002e, 0x0000, 0xffff];

function frame(dst: number, src: number, tags: number[], type: number, payloadBytes: number, fill = -1): Uint8Array {
  const out = new Uint8Array(12 + 4 * tags.length + 2 + payloadBytes);
  writeMac(out, 0, dst);
  writeMac(out, 6, src);
  let at = 12;
  for (const tpidVid of tags) {
    out[at] = tpidVid >>> 24;
    out[at + 1] = (tpidVid >>> 16) & 0xff;
    out[at + 2] = (tpidVid >>> 8) & 0xff;
    out[at + 3] = tpidVid & 0xff;
    at += 4;
  }
  out[at] = type >>> 8;
  out[at + 1] = type & 0xff;
  for (let i = at + 2; i < out.length; i++) out[i] = fill >= 0 ? fill : i & 0xff;
  return out;
}

const SEEDS: Uint8Array[] = [
  frame(BROADCAST_MAC, MACS[0]!, [], 0x0806, 28), // ARP request, 42 bytes (no padding)
  frame(MACS[0]!, MACS[1]!, [], 0x0800, 46),
  frame(MACS[1]!, MACS[0]!, [], 0x86dd, 1500), // full-size
  frame(MACS[2]!, MACS[3]!, [0x8100_0064], 0x0800, 1500), // one tag, 1518
  frame(MACS[3]!, MACS[2]!, [0x88a8_0005, 0x8100_0064], 0x0800, 60), // QinQ
  frame(0x01_00_5e_00_00_01, MACS[4]!, [], 0x0800, 46), // multicast dst
  frame(MACS[4]!, MACS[0]!, [], 46, 46), // 802.3 length field
  frame(MACS[0]!, MACS[1]!, [0x9100_0fff], 0x0800, 0),
];

const DICTIONARY = [
  Uint8Array.of(0x81, 0x00),
  Uint8Array.of(0x88, 0xa8),
  Uint8Array.of(0x91, 0x00),
  Uint8Array.of(0x06, 0x00),
  Uint8Array.of(0x05, 0xff),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0, 0, 0, 0, 0, 0),
  Uint8Array.of(0x01, 0, 0x5e, 0, 0, 1),
  Uint8Array.of(0x02, 0, 0, 0, 0, 1),
];

/** A frame built from parts (structure-aware): random MACs from a small set, 0–3 tags, a type, a length. */
function structured(rng: Rng): Uint8Array {
  const mac = (): number => (rng.bool(0.8) ? rng.pick(MACS) : rng.pick([BROADCAST_MAC, 0, 0x01_00_5e_00_00_fb, rng.u32() * 0x10000 + rng.int(0x10000)]));
  const tags: number[] = [];
  const tagCount = rng.pick([0, 0, 0, 1, 1, 2, 3]);
  for (let i = 0; i < tagCount; i++) tags.push(((rng.pick([0x8100, 0x88a8, 0x9100]) << 16) | rng.int(0x10000)) >>> 0);
  const payload = rng.bool(0.7) ? rng.size(1600) : rng.pick([0, 1, 2, 3, 4, 45, 46, 1500, 1501, 1504, 1505]);
  return frame(mac(), mac(), tags, rng.bool(0.8) ? rng.pick(TYPES) : rng.int(0x10000), payload);
}

export function ethernetTarget(): FuzzTarget<Uint8Array> {
  let core!: SwitchCore;
  let portIds: number[] = [];
  let nowMs = 0;
  const flooding = new Set<number>();
  const frameReasons = new Set<FrameDropReason>(FRAME_DROP_REASONS);
  const dropReasons = new Set<DropReason>(DROP_REASONS);

  return {
    name: 'ethernet',
    summary: 'SwitchCore.forward + inspectFrame on arbitrary frames from any port: a decision, never a throw',
    resetEvery: 4096,
    reset() {
      core = new SwitchCore({ macMaxEntries: MAC_MAX_ENTRIES, macIdleTimeMs: 5_000 });
      portIds = PORTS.map((p) => core.addPort(p));
      flooding.clear();
      PORTS.forEach((p, i) => p.floods && flooding.add(portIds[i]!));
      core.rules.insert({ src: MACS[0]!, dst: MACS[1]!, target: 'link-h2' });
      core.rules.insert({ src: 'any', dst: MACS[2]!, target: 'tap1', priority: 5 });
      core.rules.insert({ src: MACS[3]!, dst: 'any', target: 'gone' });
      core.rules.insert({ src: 'any', dst: 'none', target: 'link-h3', priority: -1 });
      core.rules.insert({ src: MACS[4]!, dst: 'none', target: 'tap0' });
      nowMs = 0;
    },
    generate(rng) {
      const r = rng.float();
      if (r < 0.6) return mutateBytes(rng, rng.pick(SEEDS), { others: SEEDS, dictionary: DICTIONARY, maxBytes: 4096 });
      if (r < 0.95) return structured(rng);
      return rng.bytes(rng.size(rng.bool(0.9) ? 64 : 65_536));
    },
    execute(bytes) {
      // In-port from the bytes' tail (so a saved input replays on the same port), sometimes an unknown one.
      const last = bytes.length > 0 ? bytes[bytes.length - 1]! : 0;
      const inPort = last === 0xee ? 99 : portIds[last % portIds.length]!;
      nowMs += 1 + (last & 0x3f) * 13;

      const info = inspectFrame(bytes, DEFAULT_MAX_FRAME_BYTES);
      if (info.kind === 'drop') {
        check(frameReasons.has(info.reason), `inspectFrame: unknown drop reason ${String(info.reason)}`);
      } else {
        check([14, 18, 22].includes(info.headerBytes) && info.headerBytes <= bytes.length, `inspectFrame: headerBytes ${info.headerBytes} for ${bytes.length} bytes`);
        check(info.src === readMac(bytes, 6) && info.dst === readMac(bytes, 0), 'inspectFrame: MACs differ from the bytes');
        check(!isMulticast(info.src) && info.src !== 0, 'inspectFrame: accepted a group or zero source');
      }

      const decision = core.forward(bytes, inPort, nowMs);
      switch (decision.kind) {
        case 'output':
          check(portIds.includes(decision.port), `forward: output to unregistered port ${decision.port}`);
          check(decision.port !== inPort, 'forward: output to the in-port');
          break;
        case 'flood':
          check(Array.isArray(decision.ports), 'forward: flood without a port list');
          for (const p of decision.ports) check(flooding.has(p) && p !== inPort, `forward: flood to port ${p}`);
          break;
        case 'drop':
          check(dropReasons.has(decision.reason), `forward: unknown drop reason ${String(decision.reason)}`);
          break;
        default:
          check(false, `forward: unknown decision ${JSON.stringify(decision)}`);
      }
      check(core.macTableStats().size <= MAC_MAX_ENTRIES, 'MAC table over its bound');
      return decision.kind === 'drop' ? `drop:${decision.reason}` : decision.kind;
    },
    classify: () => undefined,
    ...bytesCodec,
    worstCases: [
      { name: 'jumbo frame', make: (n) => frame(MACS[0]!, MACS[1]!, [], 0x0800, Math.max(0, n - 14)) },
      { name: 'tag run', make: (n) => frame(MACS[0]!, MACS[1]!, Array.from({ length: Math.floor(n / 4) }, () => 0x8100_0001), 0x0800, 0) },
    ],
  };
}
