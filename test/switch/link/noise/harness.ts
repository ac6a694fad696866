/**
 * Test harness for the noise core: a seeded randomBytes, a manual clock and two
 * NoiseDevices wired back to back in memory (cf. wireguard-go bindtest). Every
 * 'send' action is delivered to the other device unless that direction is cut.
 */
import { generatePrivateKey, type RandomBytes } from '../../../../switch/link/noise/crypto.js';
import { NoiseDevice } from '../../../../switch/link/noise/device.js';
import type { NoiseAction } from '../../../../switch/link/noise/actions.js';
import type { PeerHandle } from '../../../../switch/link/noise/peer.js';

/** Deterministic bytes (splitmix32); never for real keys. */
export function seededRandom(seed: number): RandomBytes {
  let state = seed >>> 0;
  return (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      out[i] = (z ^ (z >>> 16)) & 0xff;
    }
    return out;
  };
}

export type Side = 'a' | 'b';
export const ADDRESS: Record<Side, string> = { a: '198.18.0.1:51820', b: '198.18.0.2:51820' };
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export interface Sent {
  readonly from: Side;
  readonly bytes: Uint8Array;
  readonly atMs: number;
}

export interface PairOptions {
  persistentKeepaliveS?: number;
  presharedKey?: Uint8Array;
  seed?: number;
}

export class Pair {
  nowMs = 1_000;
  wallNowMs = 1_700_000_000_000;
  readonly dev: Record<Side, NoiseDevice>;
  readonly privateKey: Record<Side, Uint8Array>;
  /** peer[x] = the other side as seen by device x. */
  readonly peer: Record<Side, PeerHandle>;
  readonly delivered: Record<Side, Uint8Array[]> = { a: [], b: [] };
  readonly sent: Sent[] = [];
  readonly events: { side: Side; action: NoiseAction }[] = [];
  /** Set false to lose everything sent from that side. */
  readonly linkUp: Record<Side, boolean> = { a: true, b: true };
  underLoad: Record<Side, boolean> = { a: false, b: false };

  constructor(options: PairOptions = {}) {
    const random = seededRandom(options.seed ?? 1);
    const keyA = generatePrivateKey(random);
    const keyB = generatePrivateKey(random);
    this.privateKey = { a: keyA, b: keyB };
    this.dev = {
      a: new NoiseDevice({ staticPrivateKey: keyA, randomBytes: seededRandom((options.seed ?? 1) * 31 + 7) }),
      b: new NoiseDevice({ staticPrivateKey: keyB, randomBytes: seededRandom((options.seed ?? 1) * 57 + 11) }),
    };
    const common = { persistentKeepaliveS: options.persistentKeepaliveS, presharedKey: options.presharedKey };
    this.peer = {
      a: this.dev.a.addPeer({ publicKey: this.dev.b.publicKey, endpoint: ADDRESS.b, ...common }),
      b: this.dev.b.addPeer({ publicKey: this.dev.a.publicKey, endpoint: ADDRESS.a, ...common }),
    };
  }

  /** Plaintext from `side` to the other side. */
  send(side: Side, plaintext: Uint8Array): void {
    this.process(side, this.dev[side].send(this.peer[side], plaintext, this.nowMs, this.wallNowMs));
  }

  /** A raw datagram arriving at `side` from `source`. */
  inject(side: Side, bytes: Uint8Array, source = ADDRESS[other(side)]): NoiseAction[] {
    const actions = this.dev[side].receive(bytes, source, this.nowMs, this.wallNowMs, this.underLoad[side]);
    this.process(side, actions);
    return actions;
  }

  /** Advances the clock to now + ms, running every timer deadline on the way. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      const next = Math.min(this.dev.a.nextDeadlineMs() ?? Infinity, this.dev.b.nextDeadlineMs() ?? Infinity);
      if (next > target) break;
      this.setNow(Math.max(next, this.nowMs));
      this.process('a', this.dev.a.tick(this.nowMs, this.wallNowMs));
      this.process('b', this.dev.b.tick(this.nowMs, this.wallNowMs));
    }
    this.setNow(target);
  }

  /** Packets of one message type sent by `side`. */
  sentOfType(side: Side, type: number): Sent[] {
    return this.sent.filter((s) => s.from === side && s.bytes[0] === type);
  }

  eventsOf(side: Side, kind: NoiseAction['kind']): NoiseAction[] {
    return this.events.filter((e) => e.side === side && e.action.kind === kind).map((e) => e.action);
  }

  drops(side: Side): string[] {
    return this.eventsOf(side, 'drop').map((a) => (a.kind === 'drop' ? a.reason : ''));
  }

  /** Completes a handshake a → b and clears the logs. */
  establish(): void {
    this.send('a', new Uint8Array(0));
    this.clearLogs();
  }

  clearLogs(): void {
    this.sent.length = 0;
    this.events.length = 0;
    this.delivered.a.length = 0;
    this.delivered.b.length = 0;
  }

  private setNow(ms: number): void {
    this.wallNowMs += ms - this.nowMs;
    this.nowMs = ms;
  }

  private process(side: Side, actions: NoiseAction[]): void {
    for (const action of actions) {
      this.events.push({ side, action });
      if (action.kind === 'deliver') this.delivered[side].push(action.plaintext);
      if (action.kind === 'send') {
        this.sent.push({ from: side, bytes: action.bytes, atMs: this.nowMs });
        if (this.linkUp[side]) this.inject(other(side), action.bytes, ADDRESS[side]);
      }
    }
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
