/**
 * LinkManager: the edge that runs WireGuard's protocol (the pure NoiseDevice)
 * over real transports and hands Ethernet frames to the switch through one
 * LinkPort per peer. It owns the only timer of the link layer.
 *
 * Outbound (LinkPort.send → transmit):
 *   1. frame → link payload (type, length, frame) in a scratch buffer;
 *   2. device.send seals it (or stages it and starts a handshake);
 *   3. the resulting messages go to the peer's endpoint on the transport its
 *      TransportSelector picks (UDP, or TCP when UDP is blocked), as one batch.
 * Inbound (transport sink → receive):
 *   1. device.receive authenticates and decrypts; drops are counted there;
 *   2. the payload is split: Ethernet → LinkPort (queued while the transport
 *      reports a batch, handed to the switch as one batch at its end; at once
 *      otherwise), control → onControl, raw IP → onIp (WireGuard interop);
 *   3. an authenticated packet tells the selector which transport works, and
 *      moves the peer's endpoint there (roaming).
 * Handshake initiations for a peer in `auto` mode are watched: unanswered over
 * UDP for 4 s → TCP, re-initiated at once; on TCP a UDP probe every 12 s.
 */
import type { Timer, TimerClock } from '../clock.js';
import { NO_EVENTS, type EventSink } from '../events.js';
import type { Logger } from '../log.js';
import type { NoiseAction } from './noise/actions.js';
import { NoiseDevice, type OffloadedTraffic } from './noise/device.js';
import type { Keypair, KeypairSlotProvider } from './noise/keypair.js';
import type { PeerHandle } from './noise/peer.js';
import { decodePayload, encodeControl, encodeEthernet, ethernetPayloadBytes } from './link-payload.js';
import { LinkPort } from './link-port.js';
import { formatEndpoint, type Endpoint } from './transport/endpoint.js';
import type { BatchTransportSink } from './transport/native-udp-transport.js';
import type { Transport } from './transport/transport.js';
import { TransportSelector, type SelectedTransport, type TransportMode, type TransportSwitch } from './transport/transport-selector.js';

const MESSAGE_INITIATION = 1;
const MESSAGE_RESPONSE = 2;
const MESSAGE_COOKIE_REPLY = 3;
const MESSAGE_TRANSPORT = 4;
/** Initiations per second above which the device asks for cookies (wireguard-go: a 1/8-full handshake queue). */
const UNDER_LOAD_INITIATIONS_PER_S = 64;
const UNDER_LOAD_HOLD_MS = 1000;
/** After a fallback, how long the end with the higher public key waits for the other end's handshake. */
const SECOND_INITIATOR_DELAY_MS = 400;

export interface LinkPeerConfig {
  name: string;
  publicKey: Uint8Array;
  presharedKey?: Uint8Array;
  /** Where to send over UDP until the peer's packets say otherwise. */
  udpEndpoint?: Endpoint;
  /** Where to dial over TCP. */
  tcpEndpoint?: Endpoint;
  transport: TransportMode;
  persistentKeepaliveS?: number;
}

/**
 * What a link's traffic needs outside JS (the addon's flow offload, switch/offload/): where the peer is now,
 * the keypair to send on, and the keypairs whose packets may be opened without JS (current and previous;
 * never an unconfirmed `next`, whose first packet the device must see to promote it).
 */
export interface LinkOffloadBinding {
  endpoint: Endpoint;
  txKeypair: Keypair | undefined;
  rxKeypairs: readonly Keypair[];
}

export interface LinkOffload {
  /** Mirrors a link's binding (undefined: the link must not be offloaded now). False: try again later. */
  bind(name: string, binding: LinkOffloadBinding | undefined): boolean;
}

export interface LinkManagerOptions {
  privateKey: Uint8Array;
  udp: Transport;
  tcp?: Transport;
  clock: TimerClock;
  wallClock: () => number;
  randomBytes: (n: number) => Uint8Array;
  log: Logger;
  onControl?: (peer: string, body: Uint8Array) => void;
  onIp?: (peer: string, packet: Uint8Array) => void;
  /** Mirrors each link's binding after every change (flow offload); absent: nothing leaves JS. */
  offload?: LinkOffload;
  /** Where keypairs keep their state (the addon's slots with offload; default: in JS). */
  keypairSlots?: KeypairSlotProvider;
  /** Where link-up, link-down and transport-switch are raised (switch/events.ts); absent: nowhere. */
  events?: EventSink;
}

export interface LinkStatus {
  name: string;
  publicKey: string;
  state: 'up' | 'connecting';
  mode: TransportMode;
  transport: SelectedTransport;
  endpoint?: string;
  lastHandshakeAt?: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  transportSwitches: number;
  drops: Record<string, number>;
}

/** Bound listen ports (absent: that transport is not bound, e.g. TCP dial-only). */
export interface ListenPorts {
  udp?: number;
  tcp?: number;
}

interface LinkPeer {
  readonly config: LinkPeerConfig;
  readonly handle: PeerHandle;
  readonly port: LinkPort;
  readonly selector: TransportSelector;
  udpEndpoint: Endpoint | undefined;
  tcpEndpoint: Endpoint | undefined;
  isUp: boolean;
  readonly drops: Record<string, number>;
  /** What the offload was last told (undefined binding = unbound); compared after every entry point. */
  offloaded: { endpoint: Endpoint | undefined; tx: Keypair | undefined; rx0: Keypair | undefined; rx1: Keypair | undefined } | undefined;
}

export class LinkManager {
  readonly device: NoiseDevice;
  private readonly peers = new Map<string, LinkPeer>();
  private readonly byHandle = new Map<PeerHandle, LinkPeer>();
  /** Source keys handed to the device, back to the endpoints they name (for replies). */
  private readonly endpoints = new Map<string, Endpoint>();
  /**
   * Endpoint object → its key. Transports hand out the same frozen object per source, so the data path
   * formats no string per packet, and the device's endpoint check compares one string object with itself.
   */
  private readonly endpointKeys = new WeakMap<Endpoint, string>();
  private readonly scratch = new Uint8Array(65_536);
  private timer: Timer | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private initiationsThisSecond = 0;
  private secondStartMs = 0;
  private underLoadUntilMs = 0;
  private stopped = false;
  private readonly batch: Uint8Array[] = [];
  /** Set between a transport's batchStart and batchEnd: Ethernet frames are queued on their LinkPort meanwhile. */
  private isReceivingBatch = false;
  /** Link ports holding queued frames, flushed at batchEnd. */
  private readonly queuedPorts: LinkPort[] = [];
  /**
   * The UDP sink. A transport that reads in batches (native-udp-transport.ts) brackets each wake-up with
   * batchStart/batchEnd, so the frames of one wake-up reach the switch as one batch per link (one TAP write
   * call for all of them); other transports call only `message`, and each frame is delivered at once.
   */
  private readonly udpSink: BatchTransportSink = {
    message: (bytes, from) => this.receive(bytes, from),
    batchStart: () => {
      this.isReceivingBatch = true;
    },
    batchEnd: () => this.endReceiveBatch(),
  };

  private readonly events: EventSink;

  constructor(private readonly options: LinkManagerOptions) {
    this.events = options.events ?? NO_EVENTS;
    this.device = new NoiseDevice({ staticPrivateKey: options.privateKey, randomBytes: options.randomBytes, ...(options.keypairSlots ? { keypairSlots: options.keypairSlots } : {}) });
  }

  async start(): Promise<void> {
    await this.options.udp.start(this.udpSink);
    if (this.options.tcp) await this.options.tcp.start({ message: (bytes, from) => this.receive(bytes, from) });
    // Peers with a known endpoint handshake at once, so the link is up before the first frame needs it.
    for (const peer of this.peers.values()) this.connect(peer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    for (const peer of this.peers.values()) peer.port.close();
    await Promise.all([this.options.udp.close(), this.options.tcp?.close()]);
  }

  /** Adds a peer and returns the port the switch attaches. */
  addPeer(config: LinkPeerConfig): LinkPort {
    if (this.peers.has(config.name)) throw new Error(`link ${config.name} exists`);
    const handle = this.device.addPeer({
      publicKey: config.publicKey,
      ...(config.presharedKey ? { presharedKey: config.presharedKey } : {}),
      ...(config.persistentKeepaliveS ? { persistentKeepaliveS: config.persistentKeepaliveS } : {}),
    });
    const port = new LinkPort(config.name, (frames) => this.transmit(peer, frames));
    const peer: LinkPeer = {
      config,
      handle,
      port,
      selector: new TransportSelector({ mode: config.transport }),
      udpEndpoint: config.udpEndpoint,
      tcpEndpoint: config.tcpEndpoint,
      isUp: false,
      drops: {},
      offloaded: undefined,
    };
    this.peers.set(config.name, peer);
    this.byHandle.set(handle, peer);
    return port;
  }

  removePeer(name: string): boolean {
    const peer = this.peers.get(name);
    if (!peer) return false;
    this.peers.delete(name);
    this.byHandle.delete(peer.handle);
    this.device.removePeer(peer.handle);
    peer.port.close();
    this.options.offload?.bind(name, undefined);
    return true;
  }

  sendControl(name: string, body: Uint8Array): boolean {
    const peer = this.peers.get(name);
    if (!peer) return false;
    const now = this.options.clock.now();
    this.perform(this.device.send(peer.handle, encodeControl(body), now, this.options.wallClock()), now);
    this.flushBatch();
    return true;
  }

  /** Sends a raw IP packet (WireGuard interop: a plain WireGuard peer expects IP). */
  sendIp(name: string, packet: Uint8Array): boolean {
    const peer = this.peers.get(name);
    if (!peer) return false;
    const now = this.options.clock.now();
    this.perform(this.device.send(peer.handle, packet, now, this.options.wallClock()), now);
    this.flushBatch();
    return true;
  }

  /** The ports this daemon's transports are bound to (hosts report them: the Proxy dials fast paths to them). */
  listenPorts(): ListenPorts {
    const udp = this.options.udp.localEndpoint()?.port;
    const tcp = this.options.tcp?.localEndpoint()?.port;
    return { ...(udp ? { udp } : {}), ...(tcp ? { tcp } : {}) };
  }

  status(): LinkStatus[] {
    return [...this.peers.values()].map((p) => {
      const s = p.handle.stats;
      const endpoint = this.endpointFor(p, false);
      const drops: Record<string, number> = { ...p.drops };
      for (const [reason, n] of Object.entries(s.drops)) if (n) drops[reason] = n;
      return {
        name: p.config.name,
        publicKey: p.handle.publicKeyBase64,
        state: p.isUp ? 'up' : 'connecting',
        mode: p.selector.mode,
        transport: p.selector.current(),
        ...(endpoint ? { endpoint: formatEndpoint(endpoint) } : {}),
        ...(s.lastHandshakeWallMs ? { lastHandshakeAt: new Date(s.lastHandshakeWallMs).toISOString() } : {}),
        rxBytes: s.rxBytes,
        txBytes: s.txBytes,
        rxPackets: s.rxPackets,
        txPackets: s.txPackets,
        transportSwitches: p.selector.snapshot().switches,
        drops,
      };
    });
  }

  /**
   * Drops of the link layer that belong to no link, by fixed reason: the noise device's peerless drops (bare
   * reasons: 'bad-mac1', 'unknown-receiver', 'cookie-required', 'rate-limited', …; NoiseDevice.underlayDrops)
   * and the transports' drops as "udp:<reason>" / "tcp:<reason>" ('tcp:tcp-per-ip-limit',
   * 'tcp:tcp-handshake-timeout', 'tcp:tcp-too-many-connections', 'udp:too-short', …). Only reasons seen appear.
   */
  underlayDrops(): Record<string, number> {
    const out = this.device.underlayDrops();
    for (const transport of [this.options.udp, this.options.tcp]) {
      if (transport === undefined) continue;
      for (const [reason, n] of Object.entries(transport.stats().drops)) if (n) out[`${transport.kind}:${reason}`] = n;
    }
    return out;
  }

  /** How peer `name` was added (its keys, endpoints, transport and keepalive): what re-creates it as it was. */
  peerConfig(name: string): Readonly<LinkPeerConfig> | undefined {
    return this.peers.get(name)?.config;
  }

  /** Handshakes with a peer added at run time (the add-link primitive), so its link comes up before traffic needs it. */
  connectPeer(name: string, options: { force?: boolean } = {}): void {
    const peer = this.peers.get(name);
    if (!peer || this.stopped) return;
    if (options.force) return this.connect(peer, true);
    // A link is usually added on both ends at once (by the Proxy, a plugin, `topology apply`): two crossing
    // initiations would cancel out and cost a 5 s retry, so the lower key goes first and the other end only
    // follows if no handshake completed meanwhile (or the first one reached it before it knew this peer).
    if (compareBytes(this.device.publicKey, peer.config.publicKey) < 0) return this.connect(peer);
    const completedBefore = peer.handle.stats.handshakesCompleted;
    this.options.clock.after(SECOND_INITIATOR_DELAY_MS, () => {
      if (this.stopped || this.peers.get(name) !== peer) return;
      if (peer.handle.stats.handshakesCompleted === completedBefore) this.connect(peer);
    });
  }

  private connect(peer: LinkPeer, force = false): void {
    if (!this.endpointFor(peer, true)) return;
    const now = this.options.clock.now();
    this.perform(this.device.initiateHandshake(peer.handle, now, this.options.wallClock(), { force }), now);
    this.flushBatch();
  }

  private transmit(peer: LinkPeer, frames: readonly Uint8Array[]): void {
    const now = this.options.clock.now();
    const wall = this.options.wallClock();
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      if (ethernetPayloadBytes(frame.length) > this.scratch.length) {
        count(peer.drops, 'frame-too-large');
        continue;
      }
      const length = encodeEthernet(frame, this.scratch);
      this.perform(this.device.send(peer.handle, this.scratch.subarray(0, length), now, wall), now);
    }
    this.flushBatch();
  }

  private receive(bytes: Uint8Array, from: Endpoint): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    const key = this.endpointKey(from);
    if (!this.endpoints.has(key)) {
      if (this.endpoints.size > 4096) this.endpoints.clear();
      this.endpoints.set(key, from);
    }
    const type = bytes[0];
    if (type === MESSAGE_INITIATION) this.noteInitiation(now);
    const actions = this.device.receive(bytes, key, now, this.options.wallClock(), now < this.underLoadUntilMs);
    if (type === MESSAGE_RESPONSE) {
      for (const a of actions) {
        if (a.kind === 'handshake-complete') this.selected(this.byHandle.get(a.peer), (p) => p.selector.handshakeAnswered(from.transport, now));
      }
    } else if (type === MESSAGE_TRANSPORT) {
      for (const a of actions) {
        if (a.kind === 'handshake-complete') this.selected(this.byHandle.get(a.peer), (p) => p.selector.sessionConfirmed(from.transport, now));
        else if (a.kind === 'deliver' && from.transport === 'udp') this.selected(this.byHandle.get(a.peer), (p) => p.selector.dataOverUdp(now));
      }
    } else if (type === MESSAGE_COOKIE_REPLY) {
      for (const a of actions) {
        if (a.kind === 'cookie-reply') this.selected(this.byHandle.get(a.peer), (p) => p.selector.cookieReplied(from.transport, now));
      }
    }
    this.perform(actions, now, from);
    this.flushBatch();
  }

  private endReceiveBatch(): void {
    this.isReceivingBatch = false;
    const ports = this.queuedPorts;
    try {
      for (let i = 0; i < ports.length; i++) ports[i]!.flush();
    } finally {
      ports.length = 0;
    }
  }

  private endpointKey(from: Endpoint): string {
    let key = this.endpointKeys.get(from);
    if (key === undefined) {
      key = formatEndpoint(from);
      this.endpointKeys.set(from, key);
    }
    return key;
  }

  private perform(actions: readonly NoiseAction[], now: number, from?: Endpoint): void {
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      switch (a.kind) {
        case 'send':
          this.queueSend(a.peer ? this.byHandle.get(a.peer) : undefined, a.bytes, a.to, now);
          break;
        case 'deliver':
          this.deliver(this.byHandle.get(a.peer), a.plaintext);
          break;
        case 'peer-endpoint': {
          const peer = this.byHandle.get(a.peer);
          const endpoint = this.endpoints.get(a.endpoint);
          if (!peer || !endpoint) break;
          // The first authenticated packet on a TCP connection moves the peer there: its handshake deadline ends.
          if (endpoint.transport === 'tcp') this.options.tcp?.authenticated?.(endpoint);
          if (endpoint.transport === 'udp') peer.udpEndpoint = endpoint;
          else peer.tcpEndpoint = endpoint;
          this.selected(peer, (p) => p.selector.authenticatedPacket(endpoint.transport, now));
          break;
        }
        case 'handshake-complete': {
          const peer = this.byHandle.get(a.peer);
          if (peer && !peer.isUp) {
            peer.isUp = true;
            const via = from ? formatEndpoint(from) : undefined;
            this.options.log.info('link up', { link: peer.config.name, via });
            this.events.emit({ type: 'link-up', link: peer.config.name, ...(via === undefined ? {} : { via }) });
          }
          break;
        }
        case 'session-expired': {
          const peer = this.byHandle.get(a.peer);
          if (peer?.isUp) {
            peer.isUp = false;
            this.options.log.warn('link down', { link: peer.config.name, reason: 'session expired' });
            this.events.emit({ type: 'link-down', link: peer.config.name, reason: 'session expired' });
          }
          break;
        }
        case 'drop':
          break; // counted by the device, per peer and per reason
      }
    }
  }

  private deliver(peer: LinkPeer | undefined, plaintext: Uint8Array): void {
    if (!peer) return;
    const payload = decodePayload(plaintext);
    switch (payload.kind) {
      case 'ethernet':
        if (!this.isReceivingBatch) peer.port.deliver(payload.frame);
        else if (peer.port.enqueue(payload.frame)) this.queuedPorts.push(peer.port);
        break;
      case 'control':
        this.options.onControl?.(peer.config.name, payload.body);
        break;
      case 'ip':
        if (this.options.onIp) this.options.onIp(peer.config.name, payload.packet);
        else count(peer.drops, 'ip-payload-unexpected');
        break;
      case 'drop':
        count(peer.drops, payload.reason);
        break;
    }
  }

  private pendingTo: Endpoint | undefined;
  private pendingTransport: Transport | undefined;

  private queueSend(peer: LinkPeer | undefined, bytes: Uint8Array, to: string | undefined, now: number): void {
    const isInitiation = bytes[0] === MESSAGE_INITIATION;
    let endpoint = to === undefined ? undefined : this.endpoints.get(to);
    if (peer && (endpoint === undefined || (isInitiation && to === undefined))) {
      if (isInitiation) this.selected(peer, (p) => p.selector.handshakeSent(now));
      endpoint = this.endpointFor(peer, isInitiation);
    } else if (peer && isInitiation) {
      this.selected(peer, (p) => p.selector.handshakeSent(now));
    }
    if (!endpoint) {
      if (peer) count(peer.drops, 'no-endpoint');
      return;
    }
    const transport = endpoint.transport === 'udp' ? this.options.udp : this.options.tcp;
    if (!transport) {
      if (peer) count(peer.drops, 'no-tcp-transport');
      return;
    }
    if (this.pendingTo !== endpoint) this.flushBatch();
    this.pendingTo = endpoint;
    this.pendingTransport = transport;
    this.batch.push(bytes);
  }

  /**
   * Sends what the actions queued, then re-checks the timer: every entry point ends here, so a batch of
   * frames costs one deadline scan (device and selectors), not one per frame.
   */
  private flushBatch(): void {
    if (this.batch.length > 0 && this.pendingTransport && this.pendingTo) {
      if (this.batch.length === 1) this.pendingTransport.send(this.batch[0]!, this.pendingTo);
      else this.pendingTransport.sendBatch(this.batch, this.pendingTo);
    }
    this.batch.length = 0;
    this.pendingTo = undefined;
    this.pendingTransport = undefined;
    if (this.options.offload !== undefined) this.syncOffload(this.options.offload);
    this.schedule();
  }

  /**
   * Traffic a keypair carried outside JS (flow offload), reported after the fact: the device counts it and
   * runs the timer events it implies; the link timer is then re-armed if something became due earlier.
   */
  noteOffloadedTraffic(localIndex: number, traffic: OffloadedTraffic): void {
    if (this.stopped) return;
    this.device.noteOffloadedTraffic(localIndex, traffic, this.options.clock.now());
    this.schedule();
  }

  /** Tells the offload what changed: endpoint, transport, or keypairs (a few compares per peer per entry point). */
  private syncOffload(offload: LinkOffload): void {
    for (const peer of this.peers.values()) {
      // TCP too: the offload binds it where the connection runs on a native stream, and leaves it in JS elsewhere.
      const endpoint = this.endpointFor(peer, false);
      const { previous, current } = this.device.keypairsOf(peer.handle);
      const last = peer.offloaded;
      if (last !== undefined && last.endpoint === endpoint && last.tx === current && last.rx0 === current && last.rx1 === previous) continue;
      const rxKeypairs: Keypair[] = [];
      if (current) rxKeypairs.push(current);
      if (previous) rxKeypairs.push(previous);
      const binding = endpoint === undefined ? undefined : { endpoint, txKeypair: current, rxKeypairs };
      if (offload.bind(peer.config.name, binding)) peer.offloaded = { endpoint, tx: current, rx0: current, rx1: previous };
    }
  }

  /**
   * The endpoint for the transport the selector picks. Handshake initiations
   * prefer the configured TCP address over a roamed connection, which may be
   * the very connection that died.
   */
  private endpointFor(peer: LinkPeer, isInitiation: boolean): Endpoint | undefined {
    if (peer.selector.current() === 'udp') return peer.udpEndpoint ?? peer.config.udpEndpoint;
    if (isInitiation) return peer.config.tcpEndpoint ?? peer.tcpEndpoint;
    return peer.tcpEndpoint ?? peer.config.tcpEndpoint;
  }

  /** Runs a selector input; a transport switch re-initiates the handshake on the new transport at once. */
  private selected(peer: LinkPeer | undefined, input: (p: LinkPeer) => TransportSwitch | undefined): void {
    if (!peer) return;
    const change = input(peer);
    if (!change) return;
    this.options.log.info('link transport', { link: peer.config.name, from: change.from, to: change.to, reason: change.reason });
    this.events.emit({ type: 'transport-switch', link: peer.config.name, from: change.from, to: change.to, reason: change.reason });
    // Only a fallback needs a new handshake at once: the old transport's attempt cannot succeed.
    if (change.reason !== 'udp-unanswered') return;
    // Both ends usually fall back at once; two crossing initiations would cancel each other out (each side's
    // initiator state is replaced by the responder state), so the end with the lower public key goes first
    // and the other re-initiates only if no handshake completed meanwhile.
    const completedBefore = peer.handle.stats.handshakesCompleted;
    const isFirst = compareBytes(this.device.publicKey, peer.config.publicKey) < 0;
    const retry = (): void => {
      if (this.stopped || !this.peers.has(peer.config.name)) return;
      if (!isFirst && peer.handle.stats.handshakesCompleted !== completedBefore) return;
      const now = this.options.clock.now();
      this.perform(this.device.initiateHandshake(peer.handle, now, this.options.wallClock(), { force: true }), now);
      this.flushBatch();
    };
    if (isFirst) queueMicrotask(retry);
    else this.options.clock.after(SECOND_INITIATOR_DELAY_MS, retry);
  }

  private noteInitiation(now: number): void {
    if (now - this.secondStartMs >= 1000) {
      this.secondStartMs = now;
      this.initiationsThisSecond = 0;
    }
    // One initiation a second per configured peer is no attack: 200 hosts re-handshaking after a Proxy restart
    // must not all be told to come back with a cookie (a Rekey-Timeout later, each).
    const threshold = Math.max(UNDER_LOAD_INITIATIONS_PER_S, this.peers.size);
    if (++this.initiationsThisSecond > threshold) this.underLoadUntilMs = now + UNDER_LOAD_HOLD_MS;
  }

  /** One timer for the device's and selectors' deadlines; moved only when something becomes due earlier. */
  private schedule(): void {
    if (this.stopped) return;
    let at = this.device.nextDeadlineMs() ?? Number.POSITIVE_INFINITY;
    for (const p of this.peers.values()) at = Math.min(at, p.selector.nextDeadlineMs() ?? Number.POSITIVE_INFINITY);
    if (at >= this.timerAtMs || at === Number.POSITIVE_INFINITY) return;
    this.timer?.cancel();
    this.timerAtMs = at;
    this.timer = this.options.clock.after(Math.max(0, at - this.options.clock.now()), () => this.onTimer());
  }

  private onTimer(): void {
    this.timerAtMs = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const now = this.options.clock.now();
    for (const p of this.peers.values()) {
      this.selected(p, (peer) => peer.selector.tick(now));
      if (p.selector.shouldProbeUdp(now)) this.probeUdp(p, now);
    }
    this.perform(this.device.tick(now, this.options.wallClock()), now);
    this.flushBatch();
    this.schedule();
  }

  /** While on TCP: one initiation over UDP; its answer over UDP moves the link back. */
  private probeUdp(peer: LinkPeer, now: number): void {
    const endpoint = peer.udpEndpoint ?? peer.config.udpEndpoint;
    if (!endpoint) return;
    peer.selector.handshakeSent(now, 'udp');
    const actions = this.device.initiateHandshake(peer.handle, now, this.options.wallClock(), { force: true });
    for (const a of actions) {
      if (a.kind === 'send') this.options.udp.send(a.bytes, endpoint);
    }
    this.perform(actions.filter((a) => a.kind !== 'send'), now);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function count(drops: Record<string, number>, reason: string): void {
  drops[reason] = (drops[reason] ?? 0) + 1;
}
