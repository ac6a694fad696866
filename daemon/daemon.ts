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
import type { Clock } from '../switch/clock.js';
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
import { createUdpTransport } from '../switch/link/transport/udp-transport.js';
import { createNativeUdpTransport } from '../switch/link/transport/native-udp-transport.js';
import { createTcpTransport } from '../switch/link/transport/tcp-transport.js';
import { aeadProvider, encodeKeyBase64, nodeAeadProvider, publicKey, setAeadProvider } from '../switch/link/noise/crypto.js';
import { createNativeAead, loadAddon, type NativeAddon } from '../switch/port/addon.js';
// ---- flow offload (switch/offload/) ----
import { FlowOffload, type OffloadStats } from '../switch/offload/flow-offload.js';
import { createNativeKeypairSlots } from '../switch/offload/native-keypair-slots.js';
import { keypairSlotProvider, jsKeypairSlots, setKeypairSlotProvider } from '../switch/link/noise/keypair.js';
import type { NativeUdpTransport } from '../switch/link/transport/native-udp-transport.js';
// ---- end flow offload ----
import { EventLog, teeEvents } from '../switch/event-log.js';
import { VttifReporter } from '../plugins/vttif/host-reporter.js';
import { VttifService } from '../plugins/vttif/proxy-service.js';
import { createVttif } from '../plugins/vttif/vttif.js';
import { MATRIX_MESSAGE, RATE_MESSAGE, VTTIF_CONTROL_EXTENSIONS } from '../plugins/vttif/control-extensions.js';
import type { MatrixUpdate } from '../plugins/vttif/matrix.js';
import { controlExtensions } from '../switch/overlay/control-messages.js';
import type { FastPath } from '../plugins/fastpath/fastpath.js';
import { startPluginHost, type PluginHost } from '../plugins/host/on-proxy.js';

export interface DaemonDeps {
  clock: Clock;
  log: Logger;
  openPort(config: PortConfig): Port;
  specText: string;
  version: string;
  /** Link transports; real sockets unless a test passes memory twins. */
  createTransport?: (kind: 'udp' | 'tcp', listen?: { host: string; port: number }) => Transport;
  wallClock?: () => number;
  randomBytes?: (n: number) => Uint8Array;
}

/**
 * Real sockets. UDP goes through the addon (recvmmsg/sendmmsg batches) when it
 * loads, else through Node's dgram; VSWITCH_NATIVE_UDP=0 forces dgram.
 */
function createRealTransport(kind: 'udp' | 'tcp', listen?: { host: string; port: number }): Transport {
  if (kind === 'udp') {
    const udpListen = listen ?? { host: '0.0.0.0', port: 0 };
    const addon = process.env['VSWITCH_NATIVE_UDP'] === '0' ? undefined : optionalAddon();
    return addon ? createNativeUdpTransport({ listen: udpListen }, addon) : createUdpTransport({ listen: udpListen });
  }
  return createTcpTransport(listen ? { listen } : {});
}

/** The addon, or undefined when it is not built (the daemon then runs on Node's own I/O and crypto). */
function optionalAddon(): NativeAddon | undefined {
  try {
    return loadAddon();
  } catch {
    return undefined;
  }
}

/**
 * With real sockets, the link's ChaCha20-Poly1305 runs in the addon (reused
 * OpenSSL contexts) when it loads; VSWITCH_NATIVE_AEAD=0 keeps node:crypto.
 */
function installLinkAead(): string {
  const addon = process.env['VSWITCH_NATIVE_AEAD'] === '0' ? undefined : optionalAddon();
  if (addon && aeadProvider() === nodeAeadProvider) setAeadProvider(createNativeAead(addon, nodeAeadProvider));
  return aeadProvider().name;
}

export class Daemon {
  private api: ApiServer | undefined;
  links: LinkManager | undefined;
  /** The VNET primitives on this daemon (the API's `/v1/…`). */
  readonly primitives: LocalPrimitives;
  /** Control channel, star liveness, relayed primitives; present when the daemon has links. */
  overlay: Overlay | undefined;
  /** VTTIF on the Proxy (inference, API); absent on hosts and when `vttif.enabled` is false. */
  vttif: VttifService | undefined;
  /** The fast-path adaptation policy (Proxy with VTTIF; runs only when enabled, by config or API). */
  fastpath: FastPath | undefined;
  /** The Proxy's plugins: VTTIF, fast-path, config modules and HTTP policies (plugins/host). */
  plugins: PluginHost | undefined;
  /** VTTIF's counting and reporting, on a daemon with local ports that has somewhere to report to. */
  vttifReporter: VttifReporter | undefined;
  private readonly startedAtMs: number;

  private constructor(
    readonly config: DaemonConfig,
    private readonly deps: DaemonDeps,
    readonly datapath: Datapath,
    /** The last 200 events (links, transports, ports, rules…) for the dashboard; fed by the teed logger. */
    readonly events: EventLog,
  ) {
    this.startedAtMs = deps.clock.now();
    this.primitives = new LocalPrimitives({
      datapath,
      links: () => this.links,
      log: deps.log.child({ component: 'primitives' }),
      onChange: (what) => {
        this.overlay?.changed();
        if (what === 'config-time') void this.followConfigTimeBound();
      },
      macs: () => this.macEntries(),
      linkFloods: (name) => this.linkFloods(name),
    });
  }

  static async start(config: DaemonConfig, rawDeps: DaemonDeps): Promise<Daemon> {
    // Every log record that is an event (switch/event-log.ts) is also kept in the ring the dashboard streams.
    const events = new EventLog({ wallClock: rawDeps.wallClock ?? Date.now });
    const deps: DaemonDeps = { ...rawDeps, log: teeEvents(rawDeps.log, events) };
    const log = deps.log;
    const core = new SwitchCore({
      macIdleTimeMs: config.switch.macIdleTimeS * 1000,
      macMaxEntries: config.switch.macMaxEntries,
      maxFrameBytes: config.switch.maxFrameBytes,
    });
    const datapath = new Datapath({ core, clock: deps.clock, log });
    const daemon = new Daemon(config, deps, datapath, events);
    daemon.offload = daemon.startOffload();
    try {
      for (const portConfig of config.ports) {
        const port = deps.openPort(portConfig);
        datapath.attach(port, { floods: true });
        log.info('port open', { port: port.name, kind: port.kind });
      }
      await daemon.startLinks();
      await daemon.startVttif();
      await daemon.startPlugins();
      daemon.api = await serveApi(createApp(daemon.apiDeps()), config.api.listen);
      log.info('api listening', { listen: config.api.listen });
    } catch (err) {
      await daemon.plugins?.stop();
      daemon.stopVttif();
      daemon.offload?.stop();
      await daemon.links?.stop();
      datapath.closeAll();
      throw err;
    }
    daemon.startHousekeeping();
    log.info('daemon up', { name: config.name, role: config.role, ports: config.ports.length });
    return daemon;
  }

  /** One LinkManager for all peers: one UDP socket (and TCP listener) shared by every link, as WireGuard. */
  private async startLinks(): Promise<void> {
    const { config, deps } = this;
    if (config.peers.length === 0 || !config.privateKey) return;
    const create = deps.createTransport ?? createRealTransport;
    if (deps.createTransport === undefined) deps.log.info('link cipher', { aead: installLinkAead() });
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
      log: deps.log.child({ component: 'overlay' }),
      extensions: controlExtensions(VTTIF_CONTROL_EXTENSIONS),
      onPluginMessage: (peer, type, body, from) => this.onVttifMessage(peer, type, body, from),
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
   * VTTIF. Proxy: a VttifService (its parameters from the config, its smoothing derived from the config-time bound
   * unless set). Any daemon with local ports counts their traffic, when it has somewhere to send it: the Proxy's
   * own service, or the Proxy over the control channel. `enabled: false` installs nothing on the data path.
   */
  private async startVttif(): Promise<void> {
    const { config, deps } = this;
    if (!config.vttif.enabled) return;
    const log = deps.log.child({ component: 'vttif' });
    if (config.role === 'proxy') {
      const vttif = createVttif({
        updateRateHz: config.vttif.updateRateHz,
        threshold: config.vttif.threshold,
        ...(config.vttif.smoothingMs === undefined ? {} : { smoothingMs: config.vttif.smoothingMs }),
        configTimeBoundMs: (await this.primitives.configTimeBound()).upperBoundMs,
      });
      this.vttif = new VttifService({
        vttif,
        clock: deps.clock,
        wallClock: deps.wallClock ?? Date.now,
        log,
        onUpdateRate: (updateRateHz) => {
          this.overlay?.sendToHosts({ t: 'plugin', type: RATE_MESSAGE, body: updateRateHz });
          this.vttifReporter?.setUpdateRate(updateRateHz);
        },
      });
      this.vttif.start();
      log.info('vttif inference running', { ...vttif.settings() });
    }
    const hasLocalPorts = this.datapath.ports().some((p) => p.port.kind !== 'link');
    const service = this.vttif;
    const send = service
      ? (update: Parameters<VttifService['ingest']>[0]) => void service.ingest(update)
      : config.proxy
        ? (update: Parameters<VttifService['ingest']>[0]) => void this.overlay?.sendToProxy({ t: 'plugin', type: MATRIX_MESSAGE, body: update })
        : undefined;
    if (!hasLocalPorts || send === undefined) return;
    this.vttifReporter = new VttifReporter({ host: config.name, clock: deps.clock, updateRateHz: config.vttif.updateRateHz, send });
    this.offload?.followReportRate(() => this.vttifReporter?.updateRateHz);
    this.datapath.counter = this.vttifReporter.counter;
    this.vttifReporter.start();
    log.info('vttif counting', { updateRateHz: config.vttif.updateRateHz });
  }

  /**
   * The Proxy's plugin host (plugins/host): VTTIF and fast-path as plugins, the config's modules, and the registry
   * HTTP policies register with. Every daemon reports a link that goes up or down to the Proxy at once, so the
   * plugins' link events follow within a second or so.
   */
  private async startPlugins(): Promise<void> {
    const { config, deps } = this;
    this.events.subscribe((e) => {
      if (e.event === 'link-up' || e.event === 'link-down') this.overlay?.changed();
    });
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
      vttif: this.vttif,
      fastpath: config.fastpath,
      modules: config.plugins,
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      log: deps.log.child({ component: 'plugins' }),
    });
    this.fastpath = this.plugins.fastpath?.fastpath;
  }

  private stopVttif(): void {
    this.vttifReporter?.stop();
    this.datapath.counter = undefined;
    this.vttif?.stop();
  }

  /**
   * VTTIF's control messages (plugins/vttif/control-extensions.ts, decoded and checked by the channel): a host's
   * matrix at the Proxy — under the name of the link it came over, never the name it claims — and the Proxy's rate
   * at a host.
   */
  private onVttifMessage(peer: string, type: string, body: unknown, from: { fromProxy: boolean; fromHost: boolean }): void {
    if (type === MATRIX_MESSAGE && from.fromHost) {
      const result = this.vttif?.ingest({ ...(body as MatrixUpdate), host: peer });
      if (result?.kind === 'rejected') this.deps.log.warn('vttif: matrix update rejected', { peer, reason: result.reason });
    } else if (type === RATE_MESSAGE && from.fromProxy) {
      const updateRateHz = body as number;
      if (this.vttifReporter === undefined || this.vttifReporter.updateRateHz === updateRateHz) return;
      this.vttifReporter.setUpdateRate(updateRateHz);
      this.deps.log.info('vttif: update rate set by the proxy', { updateRateHz });
    }
  }

  /** The config-time primitive feeds VTTIF's derived smoothing interval (Proxy). */
  private async followConfigTimeBound(): Promise<void> {
    if (!this.vttif) return;
    const { upperBoundMs } = await this.primitives.configTimeBound();
    const settings = this.vttif.setConfigTimeBound(upperBoundMs);
    this.deps.log.info('vttif: config-time bound followed', { configTimeBoundMs: upperBoundMs, smoothingMs: settings.smoothingMs });
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
    if (!config.switch.offload || deps.createTransport !== undefined || process.env['VSWITCH_OFFLOAD'] === '0') return undefined;
    const addon = optionalAddon();
    if (addon === undefined || typeof addon.offloadPoll !== 'function') return undefined;
    const offload = FlowOffload.start({ addon, datapath: this.datapath, clock: deps.clock, log: deps.log.child({ component: 'offload' }) });
    if (offload === undefined) return undefined;
    if (keypairSlotProvider() === jsKeypairSlots) setKeypairSlotProvider(createNativeKeypairSlots(addon, deps.clock));
    deps.log.info('flow offload on', { keypairSlots: keypairSlotProvider().name });
    return offload;
  }

  offloadStats(): OffloadStats | { enabled: false } {
    return this.offload?.stats() ?? { enabled: false };
  }
  // ---- end flow offload ----

  private housekeeping: NodeJS.Timeout | undefined;

  /** MAC aging and port recovery run once a second, off the data path. */
  private startHousekeeping(): void {
    let seconds = 0;
    this.housekeeping = setInterval(() => {
      this.datapath.core.expire(this.deps.clock.now());
      this.datapath.recover();
      // Hosts that (re)joined since a run-time rate change learn it here (a message per host every 5 s).
      if (++seconds % 5 === 0 && this.vttif) this.overlay?.sendToHosts({ t: 'plugin', type: RATE_MESSAGE, body: this.vttif.settings().updateRateHz });
    }, 1000);
    this.housekeeping.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await this.plugins?.stop();
    this.stopVttif();
    this.offload?.stop();
    await this.api?.close();
    this.overlay?.stop();
    await this.links?.stop();
    this.datapath.closeAll();
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

  private apiDeps(): ApiDeps {
    const isProxy = this.config.role === 'proxy';
    return {
      local: this.primitives,
      status: () => this.status(),
      macs: () => this.macEntries(),
      metrics: async () =>
        renderMetrics({ status: this.status(), rules: await this.primitives.rules(), nowMs: Date.now(), plugins: this.plugins?.registry.summaries() ?? [] }),
      ...(isProxy ? { host: (name: string) => this.overlay?.host(name), hosts: () => this.overlay?.hosts() ?? [] } : {}),
      ...(this.vttif ? { vttif: this.vttif } : {}),
      ...(this.fastpath ? { fastpath: this.fastpath } : {}),
      ...(this.plugins ? { plugins: this.plugins.registry } : {}),
      ...(this.config.privateKey ? { publicKey: encodeKeyBase64(publicKey(this.config.privateKey)) } : {}),
      events: this.events,
      specText: this.deps.specText,
      auth: {
        tokens: this.config.api.tokens,
        requireToken: this.config.api.tokens.length > 0,
        ...(this.plugins ? { policies: { byToken: (token: string) => this.plugins?.registry.policyByToken(token) } } : {}),
      },
      log: this.deps.log.child({ component: 'api' }),
    };
  }
}
