/**
 * The composition root: the one place that wires real ports, the switch core,
 * the datapath and the API together. Start is all-or-nothing: if any port or
 * the API cannot open, everything opened so far is closed again and the error
 * is thrown, so a daemon never runs half-configured.
 */
import { randomBytes } from 'node:crypto';
import type { ApiDeps } from '../api/http/app.js';
import { createApp } from '../api/http/app.js';
import type { MacEntry, PortStatus, Status } from '../api/wire/schemas.js';
import { serveApi, type ApiServer } from '../api/http/server.js';
import { renderMetrics } from '../api/http/metrics.js';
import type { Timer, TimerClock } from '../switch/clock.js';
import type { DaemonConfig, PortConfig } from '../switch/config/config.js';
import { Datapath } from '../switch/datapath.js';
import { formatMac } from '../switch/frame/mac.js';
import type { Logger } from '../switch/log.js';
import { SwitchCore } from '../switch/pipeline/forward.js';
import type { Port } from '../switch/port/port.js';
import { LinkManager, type LinkStatus } from '../switch/link/link-manager.js';
import { interfaceViews, LocalPrimitives } from '../switch/overlay/local-primitives.js';
import { Overlay } from '../switch/overlay/overlay.js';
import type { Transport } from '../switch/link/transport/transport.js';
import { encodeKeyBase64, publicKey } from '../switch/link/noise/crypto.js';
import { realTransports, type NativeEdge } from './native.js';
import { VswitchError } from '../switch/errors.js';
// ---- flow offload (switch/offload/) ----
import { FlowOffload, type OffloadStats } from '../switch/offload/flow-offload.js';
import { createNativeKeypairSlots } from '../switch/offload/native-keypair-slots.js';
import { jsKeypairSlots, jsKeypairSlotsWith, type KeypairSlotProvider } from '../switch/link/noise/keypair.js';
import type { NativeUdpTransport } from '../switch/link/transport/native-udp-transport.js';
// ---- end flow offload ----
import { EventLog } from '../switch/event-log.js';
import { EventBus, eventName } from '../switch/events.js';
import { controlExtensions } from '../switch/overlay/control-messages.js';
import { startPluginHost, type PluginHost } from '../plugins/host/on-proxy.js';
import { registerPluginRoutes } from '../plugins/host/routes.js';
import { BUILTIN_PLUGINS } from '../plugins/builtin.js';
import type { AnyDaemonPlugin, PluginParts, PluginStartContext } from '../plugins/plugin.js';
import type { RouteMount } from '../api/http/app.js';

export interface DaemonDeps {
  clock: TimerClock;
  log: Logger;
  openPort(config: PortConfig): Port;
  specText: string;
  version: string;
  /** Link transports; real sockets (daemon/native.ts realTransports) unless a test passes memory twins. */
  createTransport?: (kind: 'udp' | 'tcp', listen?: { host: string; port: number }) => Transport;
  /** The addon, loaded once by the root (daemon/native.ts); absent: Node's own I/O and crypto, no flow offload. */
  native?: NativeEdge;
  wallClock?: () => number;
  randomBytes?: (n: number) => Uint8Array;
  /** The plugins to run (default: the built-in ones, plugins/builtin.ts); their config sections must be in the config. */
  plugins?: readonly AnyDaemonPlugin[];
}

export class Daemon {
  private api: ApiServer | undefined;
  links: LinkManager | undefined;
  /** The VNET primitives on this daemon (the API's `/v1/…`). */
  readonly primitives: LocalPrimitives;
  /** Control channel, star liveness, relayed primitives; present when the daemon has links. */
  overlay: Overlay | undefined;
  /** The Proxy's plugin registry: the built-in plugins' adaptation parts, config modules and HTTP policies (plugins/host). */
  plugins: PluginHost | undefined;
  /** The parts each plugin started on this daemon, in start order (plugins/plugin.ts). */
  private readonly started = new Map<string, PluginParts>();
  private readonly pluginList: readonly AnyDaemonPlugin[];
  /** Control-message type → the plugin whose type it is. */
  private readonly controlOwners: ReadonlyMap<string, string>;
  private readonly startedAtMs: number;

  private constructor(
    readonly config: DaemonConfig,
    private readonly deps: DaemonDeps,
    readonly datapath: Datapath,
    /** The last 200 events (links, transports, ports, rules…) for the dashboard; it follows `bus`. */
    readonly events: EventLog,
    /** Where the switch, the plugins and the root raise their events (switch/events.ts). */
    readonly bus: EventBus,
  ) {
    this.startedAtMs = deps.clock.now();
    this.pluginList = deps.plugins ?? BUILTIN_PLUGINS;
    // Each control-message type belongs to one plugin (controlExtensions refuses a type twice).
    this.controlOwners = new Map(this.pluginList.flatMap((p) => (p.controlMessages ?? []).map((m) => [m.type, p.name] as const)));
    this.primitives = new LocalPrimitives({
      datapath,
      links: () => this.links,
      log: deps.log.child({ component: 'primitives' }),
      onChange: (what) => {
        this.overlay?.changed();
        for (const parts of this.started.values()) void Promise.resolve(parts.onPrimitiveChange?.(what)).catch((err: unknown) => deps.log.warn('plugin: primitive change failed', { what, err }));
      },
      macs: () => this.macEntries(),
      linkFloods: (name) => this.linkFloods(name),
      events: bus,
      isStarLink: (name) => (config.role === 'proxy' ? config.peers.some((p) => p.name === name) : name === config.proxy),
    });
  }

  static async start(config: DaemonConfig, deps: DaemonDeps): Promise<Daemon> {
    const log = deps.log;
    // Every event (switch/events.ts) is raised on one bus; the ring the dashboard streams follows it.
    const bus = new EventBus({ onDropped: (err, event) => log.warn('event subscriber failed: dropped', { event: eventName(event), err }) });
    const events = new EventLog({ wallClock: deps.wallClock ?? Date.now });
    events.follow(bus);
    const core = new SwitchCore({
      macIdleTimeMs: config.switch.macIdleTimeS * 1000,
      macMaxEntries: config.switch.macMaxEntries,
      maxFrameBytes: config.switch.maxFrameBytes,
    });
    const segmenter = deps.native?.segmenter;
    const datapath = new Datapath({ core, clock: deps.clock, log, events: bus, ...(segmenter ? { segmenter } : {}) });
    const daemon = new Daemon(config, deps, datapath, events, bus);
    daemon.offload = daemon.startOffload();
    try {
      for (const portConfig of config.ports) {
        const port = deps.openPort(portConfig);
        datapath.attach(port, { floods: true });
        log.info('port open', { port: port.name, kind: port.kind });
      }
      await daemon.startLinks();
      await daemon.startDaemonPlugins();
      await daemon.startPluginHost();
      daemon.api = await serveApi(createApp(daemon.apiDeps()), config.api.listen);
      log.info('api listening', { listen: config.api.listen });
    } catch (err) {
      await daemon.plugins?.stop();
      await daemon.stopDaemonPlugins();
      daemon.offload?.stop();
      daemon.overlay?.stop();
      await daemon.links?.stop();
      datapath.closeAll();
      daemon.offload?.native.close(); // after the ports and links that used it
      throw err;
    }
    daemon.startHousekeeping();
    log.info('daemon up', { name: config.name, role: config.role, ports: config.ports.length });
    bus.emit({ type: 'daemon-up', name: config.name, role: config.role, ports: config.ports.length });
    return daemon;
  }

  /** One LinkManager for all peers: one UDP socket (and TCP listener) shared by every link, as WireGuard. */
  private async startLinks(): Promise<void> {
    const { config, deps } = this;
    if (config.peers.length === 0 || !config.privateKey) return;
    const create = deps.createTransport ?? realTransports(deps.native);
    const keypairSlots = this.keypairSlots();
    deps.log.info('link keypairs', { slots: keypairSlots.name });
    const needsTcp = config.listen.tcp !== undefined || config.peers.some((p) => p.transport !== 'udp');
    const udp = create('udp', config.listen.udp);
    if (this.offload && 'nativeHandle' in udp) this.offload.setLinkTransport(udp as NativeUdpTransport);
    const links = new LinkManager({
      privateKey: config.privateKey,
      udp,
      ...(this.offload ? { offload: this.offload } : {}),
      ...(needsTcp ? { tcp: create('tcp', config.listen.tcp) } : {}),
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      randomBytes: deps.randomBytes ?? ((n) => new Uint8Array(randomBytes(n))),
      log: deps.log.child({ component: 'links' }),
      keypairSlots,
      events: this.bus,
      onControl: (peer, body) => this.overlay?.onControl(peer, body),
    });
    this.links = links;
    if (this.offload) this.offload.onSlotTraffic = (localIndex, traffic) => links.noteOffloadedTraffic(localIndex, traffic);
    this.overlay = new Overlay({
      role: config.role,
      name: config.name,
      links,
      primitives: this.primitives,
      ...(config.proxy ? { proxyPeer: config.proxy } : {}),
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      ...(deps.randomBytes ? { randomBytes: deps.randomBytes } : {}),
      log: deps.log.child({ component: 'overlay' }),
      extensions: controlExtensions(this.pluginList.flatMap((p) => p.controlMessages ?? [])),
      onPluginMessage: (peer, type, body, from) => this.onPluginMessage(peer, type, body, from),
      events: this.bus,
    });
    for (const peer of config.peers) {
      const port = links.addPeer({
        name: peer.name,
        publicKey: peer.publicKey,
        transport: peer.transport,
        ...(peer.presharedKey ? { presharedKey: peer.presharedKey } : {}),
        ...(peer.persistentKeepaliveS ? { persistentKeepaliveS: peer.persistentKeepaliveS } : {}),
        ...(peer.endpoint ? { udpEndpoint: { transport: 'udp' as const, ...peer.endpoint } } : {}),
        ...(peer.tcpEndpoint ? { tcpEndpoint: { transport: 'tcp' as const, ...peer.tcpEndpoint } } : {}),
      });
      this.datapath.attach(port, { floods: this.linkFloods(peer.name) });
    }
    if (config.proxy) {
      // The paper's default rule: whatever a host has no better rule or learned port for goes to the Proxy.
      this.datapath.core.rules.insert({ src: 'any', dst: 'none', target: config.proxy, owner: 'star' });
    }
    await links.start();
    this.overlay.start();
    deps.log.info('links listening', { udp: config.listen.udp, tcp: config.listen.tcp, peers: config.peers.length });
  }

  /**
   * Each plugin's parts on this daemon (plugins/plugin.ts), in list order, each with its config section: a plugin
   * may use the exports of those before it. A plugin with nothing to do here returns undefined.
   */
  private async startDaemonPlugins(): Promise<void> {
    const { config } = this;
    const hasLocalPorts = this.datapath.ports().some((p) => p.port.kind !== 'link');
    for (const plugin of this.pluginList) {
      const section = plugin.config ? config.sections.get(plugin.config.key) : undefined;
      if (plugin.config && section === undefined) throw new VswitchError('config-invalid', `plugin "${plugin.name}": the config has no "${plugin.config.key}" section (read the config with its section)`);
      const parts = await plugin.start(this.pluginContext(plugin, hasLocalPorts), section);
      if (parts) this.started.set(plugin.name, parts);
    }
  }

  private pluginContext(plugin: AnyDaemonPlugin, hasLocalPorts: boolean): PluginStartContext {
    const { config, deps } = this;
    const overlay = this.overlay;
    const isProxy = config.role === 'proxy';
    return {
      name: config.name,
      role: config.role,
      hasLocalPorts,
      hasProxy: config.proxy !== undefined,
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      log: deps.log.child({ component: plugin.name }),
      events: this.bus,
      primitives: this.primitives,
      control: overlay
        ? {
            toProxy: (type, body) => overlay.sendToProxy({ t: 'plugin', type, body }),
            toHosts: (type, body) => overlay.sendToHosts({ t: 'plugin', type, body }),
          }
        : undefined,
      setFrameCounter: (counter) => {
        this.datapath.counter = counter;
      },
      followReportRate: (rate) => this.offload?.followReportRate(rate),
      proxy:
        isProxy && overlay
          ? {
              host: (name) => overlay.host(name),
              hosts: () => overlay.hosts(),
              proxyLinks: () => this.primitives.linksNow(),
              proxyMacs: () => this.macEntries(),
              listenPorts: (name) => overlay.report(name)?.listen,
            }
          : undefined,
      exportsOf: (name) => this.started.get(name)?.exports,
    };
  }

  /** What plugin `name` started on this daemon (its `exports`), or undefined. */
  pluginExports(name: string): unknown {
    return this.started.get(name)?.exports;
  }

  /**
   * The Proxy's plugin host (plugins/host): the plugins' adaptation parts and event sources, the config's modules,
   * and the registry HTTP policies register with. Every daemon reports a link that goes up or down to the Proxy at
   * once, so the plugins' link events follow within a second or so.
   */
  private async startPluginHost(): Promise<void> {
    const { config, deps } = this;
    this.bus.on(['link-up', 'link-down'], () => this.overlay?.changed());
    const overlay = this.overlay;
    if (config.role !== 'proxy' || overlay === undefined) return;
    this.plugins = await startPluginHost({
      name: config.name,
      local: this.primitives,
      host: (name) => overlay.host(name),
      hosts: () => overlay.hosts(),
      report: (name) => overlay.report(name),
      proxyLinks: () => this.primitives.linksNow(),
      proxyMacs: () => this.macEntries(),
      proxyRuleOwners: () => this.datapath.core.rules.list().map((r) => r.owner ?? 'config'),
      builtins: [...this.started].map(([name, parts]) => ({ name, ...(parts.adaptation ? { adaptation: parts.adaptation } : {}), ...(parts.eventSources ? { eventSources: parts.eventSources } : {}) })),
      modules: config.plugins,
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      log: deps.log.child({ component: 'plugins' }),
      events: this.bus,
    });
  }

  private async stopDaemonPlugins(): Promise<void> {
    for (const [name, parts] of [...this.started].reverse()) {
      try {
        await parts.stop();
      } catch (err) {
        this.deps.log.warn('plugin: stop failed', { plugin: name, err });
      }
    }
    this.started.clear();
  }

  /** A control message of a plugin's type (decoded and checked by the channel) goes to the plugins that started. */
  private onPluginMessage(peer: string, type: string, body: unknown, from: { fromProxy: boolean; fromHost: boolean }): void {
    const owner = this.controlOwners.get(type);
    if (owner !== undefined) this.started.get(owner)?.onControl?.(peer, type, body, from);
  }

  /**
   * Broadcast, multicast and unknown unicast travel the star only: on a host
   * with a Proxy, only the star link floods, so fast-path links can never form
   * a broadcast loop. Without a Proxy the operator's links are the only tree.
   */
  private linkFloods(name: string): boolean {
    return this.config.proxy === undefined || name === this.config.proxy;
  }

  linkStatuses(): LinkStatus[] {
    this.offload?.poll(); // counters and timers of what the fast paths carried, before anyone reads them
    return this.links?.status() ?? [];
  }

  // ---- flow offload (switch/offload/) ----
  /** The addon's flow cache; undefined when off (config, VSWITCH_OFFLOAD=0, no addon, or memory transports). */
  offload: FlowOffload | undefined;

  /**
   * Turns the flow offload on when the config allows it (`switch: { offload: true }`, the default) and the
   * daemon runs on real I/O with the addon: keypairs then live in the addon's slots, and TAP/capture ports
   * and UDP links take the native fast paths.
   */
  private startOffload(): FlowOffload | undefined {
    const { config, deps } = this;
    const native = deps.native;
    if (!config.switch.offload || native === undefined || !native.allowOffload) return undefined;
    // This daemon's own flow table, keypair slots and links (the addon has no process-wide ones): closed in stop().
    const tables = native.addon.createOffload();
    const offload = FlowOffload.start({ native: tables, datapath: this.datapath, clock: deps.clock, log: deps.log.child({ component: 'offload' }) });
    if (offload === undefined) {
      tables.close();
      return undefined;
    }
    deps.log.info('flow offload on');
    return offload;
  }

  /** With offload, keypairs live in the addon's slots (the fast paths seal with them); else in JS with the edge's AEAD. */
  private keypairSlots(): KeypairSlotProvider {
    const native = this.deps.native;
    if (this.offload) return createNativeKeypairSlots(this.offload.native, this.deps.clock);
    return native ? jsKeypairSlotsWith(native.aead) : jsKeypairSlots;
  }

  offloadStats(): OffloadStats | { enabled: false } {
    return this.offload?.stats() ?? { enabled: false };
  }
  // ---- end flow offload ----

  private housekeeping: Timer | undefined;

  /** MAC aging and port recovery run once a second, off the data path. */
  private startHousekeeping(): void {
    let seconds = 0;
    this.housekeeping = this.deps.clock.every(1000, () => {
      this.datapath.core.expire(this.deps.clock.now());
      this.datapath.recover();
      seconds++;
      for (const parts of this.started.values()) parts.housekeeping?.(this.deps.clock.now(), seconds);
    });
  }

  async stop(): Promise<void> {
    this.housekeeping?.cancel();
    await this.plugins?.stop();
    await this.stopDaemonPlugins();
    this.offload?.stop();
    await this.api?.close();
    this.overlay?.stop();
    await this.links?.stop();
    this.datapath.closeAll();
    this.offload?.native.close(); // after the ports and links that used it
    this.deps.log.info('daemon down', { name: this.config.name });
  }

  status(): Status {
    const mac = this.datapath.core.macTableStats();
    return {
      name: this.config.name,
      role: this.config.role,
      version: this.deps.version,
      uptimeS: Math.round((this.deps.clock.now() - this.startedAtMs) / 100) / 10,
      ports: this.portStatuses(),
      links: this.linkStatuses(),
      offload: this.offloadStats(),
      refused: {
        underlay: this.links?.underlayDrops() ?? {},
        control: { ...(this.overlay?.channel.malformed ?? {}) },
      },
      macTable: {
        entries: mac.size,
        learned: mac.totalLearned,
        expired: mac.totalExpired,
        evicted: mac.totalEvicted,
        moved: mac.totalMoved,
      },
    };
  }

  portStatuses(): PortStatus[] {
    return interfaceViews(this.datapath);
  }

  macEntries(): MacEntry[] {
    const nowMs = this.deps.clock.now();
    return this.datapath.core.macEntries(nowMs).map((e) => ({
      mac: formatMac(e.mac),
      port: e.portName,
      static: e.isStatic,
      ageS: Math.round(e.ageMs / 100) / 10,
    }));
  }

  /** Every plugin's routes, on every daemon (each answers for itself where it does not run), and the registry's. */
  private routeMounts(): RouteMount[] {
    const where = { isProxy: this.config.role === 'proxy' };
    return [
      ...this.pluginList.map((plugin): RouteMount => (app) => plugin.routes?.(app, () => this.started.get(plugin.name)?.exports, where)),
      (app) => registerPluginRoutes(app, () => this.plugins?.registry),
    ];
  }

  private apiDeps(): ApiDeps {
    const isProxy = this.config.role === 'proxy';
    return {
      local: this.primitives,
      status: () => this.status(),
      macs: () => this.macEntries(),
      metrics: async () =>
        renderMetrics({ status: this.status(), rules: await this.primitives.rules(), nowMs: Date.now(), plugins: this.plugins?.registry.summaries() ?? [] }),
      ...(isProxy ? { host: (name: string) => this.overlay?.host(name), hosts: () => this.overlay?.hosts() ?? [] } : {}),
      mounts: this.routeMounts(),
      ...(this.config.privateKey ? { publicKey: encodeKeyBase64(publicKey(this.config.privateKey)) } : {}),
      events: this.events,
      specText: this.deps.specText,
      listen: this.config.api.listen,
      auth: {
        tokens: this.config.api.tokens,
        requireToken: this.config.api.tokens.length > 0,
        ...(this.plugins ? { policies: { byToken: (token: string) => this.plugins?.registry.policyByToken(token) } } : {}),
      },
      log: this.deps.log.child({ component: 'api' }),
    };
  }
}
