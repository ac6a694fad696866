/**
 * The overlay glue of one daemon: the control channel over its links, the
 * resilient star's liveness (hosts), the hosts' reports and the relayed
 * primitives (Proxy). Hosts answer primitive requests from their Proxy only.
 * VM moves are followed by proxy-moves.ts (Proxy) and host-moves.ts (hosts);
 * the overlay hands them their messages, from the only peer allowed to send
 * each: a move announcement from a host's Proxy, acks and arrivals from a
 * Proxy's hosts (anything else is refused under a fixed reason, changing nothing).
 */
import type { Timer, TimerClock } from '../clock.js';
import { NO_EVENTS, type EventSink } from '../events.js';
import type { LinkManager } from '../link/link-manager.js';
import type { Logger } from '../log.js';
import { CONTROL_RATE } from './control-budget.js';
import { ControlChannel } from './control-channel.js';
import type { ControlExtensions, ControlMessage, ReportMessage, RequestMessage, ResponseMessage } from './control-messages.js';
import type { LocalPrimitives } from './local-primitives.js';
import { integerArg, linkInput, portInput, ruleInput, stringArg } from './primitive-inputs.js';
import { RelayedPrimitives } from './relayed-primitives.js';
import { VswitchError } from '../errors.js';
import type { Primitives } from './primitives.js';
import { StarLiveness } from './star-liveness.js';
import { reachabilityOf, type NatKind } from './nat-kind.js';
import { formatEndpoint } from '../link/transport/endpoint.js';
import { HostMoves } from './host-moves.js';
import { ProxyMoves } from './proxy-moves.js';
import { ProxyFollower } from '../ha/proxy-follower.js';
import type { MoveBounds } from './move-limiter.js';
import type { MoveSite, MoveStats, VmMove } from './move-site.js';

const HEARTBEAT_MS = 1000;
const REPORT_EVERY_MS = 5000;

export interface HostSummary {
  name: string;
  state: 'up' | 'down';
  lastHeardAt?: string;
  lastReportAt?: string;
  interfaces: number;
  links: number;
  rules: number;
  /** Where the Proxy hears the host (its star link's endpoint after roaming: after any NAT). */
  observedEndpoint?: string;
  /** What that says about reaching it (nat-kind.ts). */
  nat: NatKind;
}

/** A host's view of the star (the API's StarView): does it hear the Proxy? */
export interface StarView {
  proxy: string;
  alive: boolean;
  silentS: number;
  reconnects: number;
}

export interface OverlayOptions {
  role: 'host' | 'proxy';
  name: string;
  links: LinkManager;
  primitives: LocalPrimitives;
  /** On a host: the name of its link to the Proxy (with several Proxies: the one followed first). */
  proxyPeer?: string;
  /**
   * On a host with several Proxies (Proxy HA, switch/ha/): all their links, `proxyPeer` first. The host follows the
   * one that announced the highest epoch (`proxy-active`); only that one is "the Proxy" for everything here.
   */
  proxyPeers?: readonly string[];
  /** On a host: it now follows another Proxy (the daemon moves its default rule and flood port). */
  onProxyChanged?(active: string, previous: string): void;
  clock: TimerClock;
  wallClock: () => number;
  log: Logger;
  /** Message types plugins add to the control channel (VTTIF's matrix and rate). */
  extensions?: ControlExtensions;
  /** Source of the control channel's request ids; default node:crypto. */
  randomBytes?: (n: number) => Uint8Array;
  /**
   * A plugin's message arrived, already decoded and checked by its extension. `peer` is the link it came over:
   * the link names the sender, never the message; `fromProxy` says it came over a host's star link.
   */
  onPluginMessage?(peer: string, type: string, body: unknown, from: { fromProxy: boolean; fromHost: boolean }): void;
  /** Where star-silent, vm-moved and vm-move-converged are raised (switch/events.ts); absent: nowhere. */
  events?: EventSink;
  /** Follow VM moves (proxy-moves.ts, host-moves.ts); absent: they are not followed. */
  moves?: {
    site: MoveSite;
    /** On the Proxy: a link to one of its hosts (the star). */
    isStarLink(name: string): boolean;
    /** On the Proxy: the plugins follow a move; its convergence waits for them. */
    onMoved?(move: VmMove): void | Promise<void>;
    bounds?: MoveBounds;
  };
}

interface HostRecord {
  lastHeardMs: number;
  lastHeardWallMs: number;
  report?: ReportMessage;
  reportWallMs?: number;
}

export class Overlay {
  readonly channel: ControlChannel;
  private readonly liveness: StarLiveness | undefined;
  private readonly hostRecords = new Map<string, HostRecord>();
  private timer: Timer | undefined;
  private lastReportMs = Number.NEGATIVE_INFINITY;
  private reportSoon = false;
  private readonly proxyMoves: ProxyMoves | undefined;
  private readonly hostMoves: HostMoves | undefined;
  /** A host's Proxies and which one it follows; undefined on a Proxy and on a host without one. */
  private readonly follower: ProxyFollower | undefined;
  /** On a Proxy that is active in an election: the epoch it announces to its hosts. */
  private activeEpoch: number | undefined;

  /** On a host: the link of the Proxy it follows. */
  get proxyPeer(): string | undefined {
    return this.follower?.active;
  }

  constructor(private readonly options: OverlayOptions) {
    this.channel = new ControlChannel({
      send: (peer, body) => options.links.sendControl(peer, body),
      log: options.log,
      clock: options.clock,
      onRequest: (peer, request) => this.onRequest(peer, request),
      onMessage: (peer, message) => this.onMessage(peer, message),
      ...(options.extensions ? { extensions: options.extensions } : {}),
      ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
      // The Proxy bounds what each host makes it read; a host trusts its Proxy (whose requests come in bursts).
      ...(options.role === 'proxy' ? { rateLimit: CONTROL_RATE } : {}),
    });
    if (options.role === 'host' && options.proxyPeer) {
      this.follower = new ProxyFollower(options.proxyPeers ?? [options.proxyPeer]);
      this.liveness = new StarLiveness(options.clock.now());
    }
    const moves = options.moves;
    if (moves && options.role === 'proxy') {
      this.proxyMoves = new ProxyMoves({
        name: options.name,
        site: moves.site,
        isStarLink: (name) => moves.isStarLink(name),
        hostsUp: () => options.links.status().filter((l) => l.state === 'up' && moves.isStarLink(l.name)).map((l) => l.name),
        send: (peer, message) => this.channel.send(peer, message),
        refuse: (peer, reason, detail) => this.channel.refuse(peer, reason, detail),
        clock: options.clock,
        events: options.events ?? NO_EVENTS,
        log: options.log,
        ...(moves.onMoved ? { onMoved: (move: VmMove) => moves.onMoved!(move) } : {}),
        ...(moves.bounds ? { bounds: moves.bounds } : {}),
      });
    } else if (moves && options.proxyPeer) {
      const overlay = this; // the getter reads the Proxy followed now
      this.hostMoves = new HostMoves({
        name: options.name,
        site: moves.site,
        get proxyPeer() {
          return overlay.proxyPeer!;
        },
        sendToProxy: (message) => this.sendToProxy(message),
        clock: options.clock,
        ...(moves.bounds ? { bounds: moves.bounds } : {}),
      });
    }
  }

  start(): void {
    this.timer = this.options.clock.every(HEARTBEAT_MS, () => this.tick());
  }

  stop(): void {
    this.timer?.cancel();
    this.proxyMoves?.stop();
    this.hostMoves?.stop();
    this.channel.close();
  }

  /** What this daemon counted of VM moves; undefined when it does not follow them. */
  moveStats(): MoveStats | undefined {
    return (this.proxyMoves ?? this.hostMoves)?.stats();
  }

  /** Entry point for control payloads from the LinkManager. */
  onControl(peer: string, body: Uint8Array): void {
    const now = this.options.clock.now();
    if (peer === this.proxyPeer) this.liveness?.heard(now);
    if (this.options.role === 'proxy') {
      const record = this.hostRecords.get(peer) ?? { lastHeardMs: now, lastHeardWallMs: 0 };
      record.lastHeardMs = now;
      record.lastHeardWallMs = this.options.wallClock();
      this.hostRecords.set(peer, record);
    }
    this.channel.receive(peer, body);
  }

  /** Something changed locally: tell the Proxy soon (debounced to the next tick). */
  changed(): void {
    this.reportSoon = true;
  }

  /** Proxy: the primitives of a host, run over the control channel. */
  host(name: string): Primitives | undefined {
    if (this.options.role !== 'proxy') return undefined;
    if (!this.options.links.status().some((l) => l.name === name)) return undefined;
    return new RelayedPrimitives(this.channel, name, { policyLinkKeys: () => this.options.primitives.overlayKeys() });
  }

  hosts(): HostSummary[] {
    const now = this.options.clock.now();
    return this.options.links.status().map((l) => {
      const r = this.hostRecords.get(l.name);
      const alive = r !== undefined && now - r.lastHeardMs < 3 * HEARTBEAT_MS;
      return {
        name: l.name,
        state: alive && l.state === 'up' ? 'up' : 'down',
        ...(r?.lastHeardWallMs ? { lastHeardAt: new Date(r.lastHeardWallMs).toISOString() } : {}),
        ...(r?.reportWallMs ? { lastReportAt: new Date(r.reportWallMs).toISOString() } : {}),
        interfaces: r?.report?.interfaces.length ?? 0,
        links: r?.report?.links.length ?? 0,
        rules: r?.report?.rules.length ?? 0,
        ...this.reachability(l.name, l.endpoint, r?.report?.listen?.udp),
      };
    });
  }

  private reachability(name: string, observedEndpoint: string | undefined, listenUdpPort: number | undefined): { nat: NatKind; observedEndpoint?: string } {
    const config = this.options.links.peerConfig(name);
    const configured = config?.udpEndpoint ?? config?.tcpEndpoint;
    return reachabilityOf({
      ...(configured ? { configuredEndpoint: formatEndpoint(configured) } : {}),
      ...(observedEndpoint ? { observedEndpoint } : {}),
      ...(listenUdpPort ? { listenUdpPort } : {}),
    });
  }

  /** Host: whether it hears the Proxy (a session can outlive a Proxy that went away by up to 180 s). */
  star(): StarView | undefined {
    const proxyPeer = this.proxyPeer;
    if (!proxyPeer || !this.liveness) return undefined;
    const now = this.options.clock.now();
    return { proxy: proxyPeer, alive: this.liveness.isAlive(now), silentS: Math.round(this.liveness.silentMs(now) / 100) / 10, reconnects: this.liveness.retries };
  }

  /** Host: a one-way message to the Proxy; false when there is no Proxy link. */
  sendToProxy(message: ControlMessage): boolean {
    const proxyPeer = this.proxyPeer;
    return proxyPeer !== undefined && this.channel.send(proxyPeer, message);
  }

  /** Proxy: a one-way message to every host it has a link to. */
  sendToHosts(message: ControlMessage): void {
    if (this.options.role !== 'proxy') return;
    for (const l of this.options.links.status()) this.channel.send(l.name, message);
  }

  /**
   * Proxy in an election (switch/ha/): active with `epoch` (announced to every host now and with each heartbeat),
   * or undefined when standing by (it announces nothing).
   */
  setActiveEpoch(epoch: number | undefined): void {
    this.activeEpoch = epoch;
    if (epoch !== undefined) this.sendToHosts({ t: 'proxy-active', epoch });
  }

  /** Host: its Proxies, the one it follows and the epoch (undefined without several Proxies or on a Proxy). */
  following(): ReturnType<ProxyFollower['stats']> | undefined {
    return this.options.proxyPeers && this.options.proxyPeers.length > 1 ? this.follower?.stats() : undefined;
  }

  /** The last report a host sent (Proxy). */
  report(name: string): ReportMessage | undefined {
    return this.hostRecords.get(name)?.report;
  }

  private tick(): void {
    const { links, role, name } = this.options;
    const proxyPeer = this.proxyPeer;
    const now = this.options.clock.now();
    const heartbeat: ControlMessage = { t: 'hb', name, role };
    this.proxyMoves?.tick(now);
    if (role === 'proxy') {
      for (const l of links.status()) this.channel.send(l.name, heartbeat);
      if (this.activeEpoch !== undefined) this.sendToHosts({ t: 'proxy-active', epoch: this.activeEpoch });
    } else if (proxyPeer) {
      // Every Proxy hears this host (a standby's link stays warm, so following it is instant).
      for (const peer of this.options.proxyPeers ?? [proxyPeer]) this.channel.send(peer, heartbeat);
      if (this.liveness?.shouldReconnect(now)) {
        this.options.log.info('star link silent: re-handshaking with the proxy', { link: proxyPeer, retry: this.liveness.retries });
        this.options.events?.emit({ type: 'star-silent', link: proxyPeer, retry: this.liveness.retries });
        links.connectPeer(proxyPeer, { force: true });
      }
      if (this.reportSoon || now - this.lastReportMs >= REPORT_EVERY_MS) void this.sendReport(now);
    }
  }

  private async sendReport(now: number): Promise<void> {
    const { primitives, name } = this.options;
    const proxyPeer = this.proxyPeer;
    if (!proxyPeer || !this.liveness?.isAlive(now)) return;
    this.reportSoon = false;
    this.lastReportMs = now;
    const [interfaces, links, rules] = await Promise.all([primitives.interfaces(), primitives.links(), primitives.rules()]);
    this.channel.send(proxyPeer, { t: 'report', name, interfaces, links, rules, listen: this.options.links.listenPorts() });
  }

  private onMessage(peer: string, message: Exclude<ControlMessage, RequestMessage | ResponseMessage>): void {
    if (message.t === 'plugin') {
      const fromProxy = this.options.role === 'host' && peer === this.proxyPeer;
      const fromHost = this.options.role === 'proxy';
      this.options.onPluginMessage?.(peer, message.type, message.body, { fromProxy, fromHost });
      return;
    }
    if (message.t === 'mac-moved') {
      // Only a host's Proxy says where a VM is now: a host (or anyone at the Proxy) saying so is refused.
      if (this.options.role !== 'host' || peer !== this.proxyPeer) {
        return this.channel.refuse(peer, 'mac-moved-not-from-proxy', `a move announcement from ${peer}`);
      }
      if (this.hostMoves) this.hostMoves.moved(message);
      else this.channel.send(peer, { t: 'mac-moved-ack', id: message.id }); // nothing to re-point here
      return;
    }
    if (message.t === 'mac-moved-ack') {
      if (this.proxyMoves) this.proxyMoves.acked(peer, message.id);
      else this.channel.refuse(peer, 'mac-moved-ack-unexpected', `an ack from ${peer}, which was asked nothing`);
      return;
    }
    if (message.t === 'mac-arrived') {
      if (this.proxyMoves) this.proxyMoves.arrived(peer, message.mac);
      else if (this.options.role !== 'proxy') this.channel.refuse(peer, 'mac-arrived-not-from-host', `an arrival from ${peer} at a host`);
      return;
    }
    if (message.t === 'proxy-active') return this.proxyActive(peer, message.epoch);
    if (message.t === 'report' && this.options.role === 'proxy') {
      const record = this.hostRecords.get(peer);
      if (record) {
        record.report = message;
        record.reportWallMs = this.options.wallClock();
      }
    }
  }

  /** Host: a Proxy says it is active; the highest epoch wins (proxy-follower.ts), an older one is refused. */
  private proxyActive(peer: string, epoch: number): void {
    const result = this.follower?.announced(peer, epoch) ?? { kind: 'not-a-proxy' as const };
    if (result.kind === 'not-a-proxy') return this.channel.refuse(peer, 'proxy-active-not-from-proxy', `from ${peer}`);
    if (result.kind === 'stale') return this.channel.refuse(peer, 'proxy-active-stale', `epoch ${epoch} from ${peer}, following ${result.followedEpoch}`);
    if (result.kind !== 'followed' || !result.changed) return;
    const now = this.options.clock.now();
    this.liveness?.heard(now); // it just spoke: the silence counted so far was the old Proxy's
    this.options.log.info('following another proxy', { proxy: peer, previous: result.previous, epoch });
    this.options.onProxyChanged?.(peer, result.previous);
    this.reportSoon = true; // the new Proxy learns this host's state at the next tick
  }

  private async onRequest(peer: string, request: RequestMessage): Promise<unknown> {
    if (this.options.role !== 'host' || peer !== this.proxyPeer) {
      throw new VswitchError('forbidden', `only this host's proxy may run primitives (asked by ${peer})`);
    }
    const p = this.options.primitives;
    const actor = { name: `proxy:${request.actor}` };
    const [a0] = request.args;
    switch (request.op) {
      case 'interfaces':
        return p.interfaces();
      case 'links':
        return p.links();
      case 'rules':
        return p.rules();
      case 'configTimeBound':
        return p.configTimeBound();
      case 'macs':
        return p.macs();
      case 'addLink':
        return p.addLink(linkInput(a0), actor);
      case 'deleteLink':
        return p.deleteLink(stringArg(a0, 'name'), actor);
      case 'addRule':
        return p.addRule(ruleInput(a0), actor);
      case 'deleteRule':
        return p.deleteRule(integerArg(a0, 'id'), actor);
      case 'setConfigTimeBound':
        return p.setConfigTimeBound(integerArg(a0, 'upperBoundMs'), actor);
      case 'ports':
        return p.ports();
      case 'addPort':
        return p.addPort(portInput(a0), actor);
      case 'deletePort':
        return p.deletePort(stringArg(a0, 'name'), actor);
    }
  }
}
