/**
 * WireGuard messages → parsePacket (switch/link/noise/messages.ts) and NoiseDevice.receive
 * (switch/link/noise/device.ts). Two devices, a and b, complete a real handshake; the fuzzer then feeds b
 * datagrams from an unknown source or from a's endpoint, sometimes under load (mac2, cookie replies, rate
 * limit); what b sends goes to a and a's answers back to b (two hops), so sessions and timers move on.
 *
 * To get past mac1 (checked before anything else), a share of the mutated handshake messages get a valid mac1
 * again, initiations are crafted from a's real identity (with odd timestamps), and transport packets are sealed
 * on a's live session then edited.
 *
 * Input: one header byte (bit 0: from a's endpoint; bit 1: under load; bits 2–7: ms to advance ÷ 7), then the
 * datagram. Oracle: receive and tick never throw; every action is of a known kind, a drop has a known reason, a
 * delivery is non-empty, a roaming endpoint is the source; parsePacket's fields agree with the bytes.
 */
import { NoiseDevice } from '../../../../switch/link/noise/device.js';
import { DROP_REASONS } from '../../../../switch/link/noise/drop-reason.js';
import { CookieGenerator } from '../../../../switch/link/noise/cookie.js';
import { generatePrivateKey, type RandomBytes } from '../../../../switch/link/noise/crypto.js';
import { createInitiation, createStaticIdentity, HandshakeState } from '../../../../switch/link/noise/handshake.js';
import {
  MESSAGE_COOKIE_REPLY_SIZE,
  MESSAGE_INITIATION_SIZE,
  MESSAGE_RESPONSE_SIZE,
  MESSAGE_TRANSPORT_MIN_SIZE,
  parsePacket,
} from '../../../../switch/link/noise/messages.js';
import type { NoiseAction } from '../../../../switch/link/noise/actions.js';
import type { PeerHandle } from '../../../../switch/link/noise/peer.js';
import { mutateBytes } from '../mutate.js';
import { Rng } from '../rng.js';
import { bytesCodec, check, type FuzzTarget } from '../target.js';

const A_ADDRESS = '198.18.0.1:51820';
const B_ADDRESS = '198.18.0.2:51820';
const STRANGER = '203.0.113.9:40000';
// Every action kind, checked by the compiler: a new kind fails the build here, not a fuzz run later.
const KIND_TABLE: Record<NoiseAction['kind'], true> = {
  send: true,
  deliver: true,
  drop: true,
  'peer-endpoint': true,
  'handshake-complete': true,
  'session-expired': true,
  'cookie-reply': true,
};
const KINDS = new Set<string>(Object.keys(KIND_TABLE));
const REASONS = new Set<string>(DROP_REASONS);

function seededBytes(seed: number): RandomBytes {
  const rng = new Rng(seed);
  return (n) => rng.bytes(n);
}

function withHeader(header: number, datagram: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + datagram.length);
  out[0] = header;
  out.set(datagram, 1);
  return out;
}

function checkActions(actions: NoiseAction[], source: string, who: string): void {
  check(Array.isArray(actions), `${who}: actions is not a list`);
  for (const a of actions) {
    check(KINDS.has(a.kind), `${who}: unknown action ${JSON.stringify(a.kind)}`);
    if (a.kind === 'drop') check(REASONS.has(a.reason), `${who}: unknown drop reason ${String(a.reason)}`);
    if (a.kind === 'deliver') check(a.plaintext instanceof Uint8Array && a.plaintext.length > 0, `${who}: empty delivery`);
    if (a.kind === 'send') check(a.bytes instanceof Uint8Array && a.bytes.length >= 32, `${who}: send of ${a.bytes?.length} bytes`);
    if (a.kind === 'peer-endpoint') check(a.endpoint === source, `${who}: roamed to ${a.endpoint}, not the source ${source}`);
  }
}

function checkParse(bytes: Uint8Array): void {
  const parsed = parsePacket(bytes);
  if (!parsed.ok) {
    check(['truncated', 'oversized', 'unknown-type'].includes(parsed.reason), `parsePacket: reason ${String(parsed.reason)}`);
    return;
  }
  const m = parsed.msg;
  const expected = { 1: MESSAGE_INITIATION_SIZE, 2: MESSAGE_RESPONSE_SIZE, 3: MESSAGE_COOKIE_REPLY_SIZE }[m.type as 1 | 2 | 3];
  if (expected !== undefined) check(bytes.length === expected, `parsePacket: type ${m.type} accepted at ${bytes.length} bytes`);
  else check(m.type === 4 && bytes.length >= MESSAGE_TRANSPORT_MIN_SIZE && m.encrypted.length === bytes.length - 16, 'parsePacket: transport fields');
  check(bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0, 'parsePacket: accepted non-zero reserved bytes');
}

export function wireguardTarget(): FuzzTarget<Uint8Array> {
  let a!: NoiseDevice;
  let b!: NoiseDevice;
  let peerOfA!: PeerHandle; // b, as a sees it
  let peerOfB!: PeerHandle; // a, as b sees it
  let privateA!: Uint8Array;
  let macsForB!: CookieGenerator;
  let nowMs = 0;
  let wallMs = 0;
  /** Real messages seen on the wire, to mutate. */
  let seeds: Uint8Array[] = [];

  /** Delivers what `from` sent to the other device, at most `hops` times back and forth. */
  const relay = (from: 'a' | 'b', actions: NoiseAction[], hops: number): void => {
    for (const action of actions) {
      if (action.kind !== 'send') continue;
      if (seeds.length < 64) seeds.push(action.bytes);
      if (hops === 0) continue;
      const to = from === 'a' ? b : a;
      const source = from === 'a' ? A_ADDRESS : B_ADDRESS;
      const answer = to.receive(action.bytes, source, nowMs, wallMs);
      checkActions(answer, source, from === 'a' ? 'b' : 'a');
      relay(from === 'a' ? 'b' : 'a', answer, hops - 1);
    }
  };

  const sealedByA = (rng: Rng): Uint8Array | undefined => {
    const actions = a.send(peerOfA, rng.bytes(rng.pick([0, 1, 15, 16, 17, 100, 1400])), nowMs, wallMs);
    const sent = actions.find((x) => x.kind === 'send');
    relay('a', actions.filter((x) => x !== sent), 1);
    return sent?.kind === 'send' ? sent.bytes : undefined;
  };

  const craftedInitiation = (rng: Rng): Uint8Array => {
    const identity = createStaticIdentity(privateA);
    const hs = new HandshakeState(identity, b.publicKey, new Uint8Array(32));
    const wall = rng.pick([wallMs + rng.int(100_000), wallMs - rng.int(100_000), 0, 2 ** 40, Number.MAX_SAFE_INTEGER / 1000]);
    const bytes = createInitiation(hs, identity, rng.u32(), seededBytes(rng.u32()), wall) ?? new Uint8Array(MESSAGE_INITIATION_SIZE);
    macsForB.addMacs(bytes, nowMs);
    return bytes;
  };

  const fixMac1 = (bytes: Uint8Array): Uint8Array => {
    if (bytes.length === MESSAGE_INITIATION_SIZE || bytes.length === MESSAGE_RESPONSE_SIZE) macsForB.addMacs(bytes, nowMs);
    return bytes;
  };

  return {
    name: 'wireguard',
    summary: 'parsePacket + NoiseDevice.receive after a real handshake, from a stranger and from the peer: a drop by reason, never a throw',
    resetEvery: 2048,
    reset() {
      const keys = seededBytes(0x5eed);
      privateA = generatePrivateKey(keys);
      const privateB = generatePrivateKey(keys);
      a = new NoiseDevice({ staticPrivateKey: privateA, randomBytes: seededBytes(1) });
      b = new NoiseDevice({ staticPrivateKey: privateB, randomBytes: seededBytes(2) });
      peerOfA = a.addPeer({ publicKey: b.publicKey, endpoint: B_ADDRESS });
      peerOfB = b.addPeer({ publicKey: a.publicKey, endpoint: A_ADDRESS, persistentKeepaliveS: 25 });
      macsForB = new CookieGenerator(b.publicKey);
      nowMs = 1_000;
      wallMs = 1_700_000_000_000;
      seeds = [];
      relay('a', a.send(peerOfA, new TextEncoder().encode('hello'), nowMs, wallMs), 4); // the handshake
      relay('b', b.send(peerOfB, new Uint8Array(64), nowMs, wallMs), 2);
      seeds.push(Uint8Array.of(3, 0, 0, 0, ...new Uint8Array(60)), Uint8Array.of(4, 0, 0, 0, ...new Uint8Array(28)));
    },
    generate(rng) {
      const header = (rng.bool(0.6) ? 1 : 0) | (rng.bool(0.15) ? 2 : 0) | (rng.int(64) << 2);
      const r = rng.float();
      let datagram: Uint8Array;
      if (r < 0.35) {
        datagram = mutateBytes(rng, rng.pick(seeds), { others: seeds, maxBytes: 2048 });
      } else if (r < 0.55) {
        datagram = fixMac1(mutateBytes(rng, rng.pick(seeds), { others: seeds, maxBytes: 2048, maxMutations: 2 }));
      } else if (r < 0.72) {
        const sealed = sealedByA(rng) ?? rng.pick(seeds);
        datagram = rng.bool(0.5) ? sealed : mutateBytes(rng, sealed, { maxMutations: 2 });
      } else if (r < 0.82) {
        const initiation = craftedInitiation(rng);
        datagram = rng.bool(0.6) ? initiation : fixMac1(mutateBytes(rng, initiation, { maxMutations: 2 }));
      } else if (r < 0.95) {
        const type = rng.range(1, 4);
        const size = type === 1 ? MESSAGE_INITIATION_SIZE : type === 2 ? MESSAGE_RESPONSE_SIZE : type === 3 ? MESSAGE_COOKIE_REPLY_SIZE : 32 + rng.size(1500);
        datagram = rng.bytes(size);
        datagram.set([type, 0, 0, 0], 0);
        if (rng.bool(0.5)) fixMac1(datagram);
      } else {
        datagram = rng.bytes(rng.size(rng.bool(0.95) ? 256 : 70_000));
      }
      return withHeader(header, datagram);
    },
    execute(input) {
      const header = input[0] ?? 0;
      const datagram = input.subarray(1);
      const source = header & 1 ? A_ADDRESS : STRANGER;
      nowMs += (header >>> 2) * 7;
      wallMs += (header >>> 2) * 7;
      checkParse(datagram);
      const actions = b.receive(datagram, source, nowMs, wallMs, (header & 2) !== 0);
      checkActions(actions, source, 'b');
      relay('b', actions, 2);
      const ticked = b.tick(nowMs, wallMs);
      checkActions(ticked, B_ADDRESS, 'b.tick');
      relay('b', ticked, 2);
      relay('a', a.tick(nowMs, wallMs), 2);
      const first = actions.find((x) => x.kind !== 'peer-endpoint');
      return first === undefined ? 'none' : first.kind === 'drop' ? `drop:${first.reason}` : first.kind;
    },
    classify: () => undefined,
    ...bytesCodec,
    worstCases: [
      { name: 'oversized transport', make: (n) => withHeader(1, Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 4 : 0))) },
      { name: 'max transport, bad tag', make: (n) => withHeader(1, Uint8Array.from({ length: Math.min(n, 65_535) }, (_, i) => (i === 0 ? 4 : i & 0xff))) },
    ],
  };
}
