/**
 * The composition root: the one place that wires real ports, the switch core,
 * the datapath and the API together. Start is all-or-nothing: if any port or
 * the API cannot open, everything opened so far is closed again and the error
 * is thrown, so a daemon never runs half-configured.
 *
 * Durable state (switch/state/). With a state store (`DaemonDeps.state`; `vswitch up` opens the state directory's
 * journal), the daemon starts from its config and layers the saved run-time changes on it while it starts —
 * run-time ports after the config's, links before they handshake, rules (which may leave by those ports), the
 * config-time bound, then each plugin its own records, then the Proxy's registry its plugins' states and policies —
 * and reports what it skipped (switch/state/restore-primitives.ts has the precedence). Every change the API acknowledges was written first: the primitives through their `durable`
 * hook, the plugins and the registry through the same store. Without a store, nothing outlives the process.
 */
import { randomBytes } from 'node:crypto';
import type { ApiDeps } from '../api/http/app.js';
import { createApp } from '../api/http/app.js';
import type { MacEntry, PortStatus, Status } from '../api/wire/schemas.js';
import { serveApi, type ApiServer } from '../api/http/server.js';
import { DaemonMetrics } from '../api/http/metrics.js';
import type { Timer, TimerClock } from '../switch/clock.js';
import type { DaemonConfig, PortConfig } from '../switch/config/config.js';
import { Datapath } from '../switch/datapath.js';
import { formatMac } from '../switch/frame/mac.js';
import type { Logger } from '../switch/log.js';
import { SwitchCore } from '../switch/pipeline/forward.js';
import type { Port } from '../switch/port/port.js';
import { LinkManager, type LinkStatus } from '../switch/link/link-manager.js';
import { LocalPrimitives } from '../switch/overlay/local-primitives.js';
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
import type { TcpStreamSource } from '../switch/link/transport/tcp-transport.js';
// ---- end flow offload ----
import { EventLog } from '../switch/event-log.js';
import { EventBus, eventName } from '../switch/events.js';
import { controlExtensions } from '../switch/overlay/control-messages.js';
import { startPluginHost, type PluginHost } from '../plugins/host/on-proxy.js';
import { registerPluginRoutes } from '../plugins/host/routes.js';
import { moveEventBody } from '../plugins/host/move-events.js';
import type { VmMove } from '../switch/overlay/move-site.js';
import { BUILTIN_PLUGINS } from '../plugins/builtin.js';
import type { AnyDaemonPlugin, PluginParts, PluginStartContext } from '../plugins/plugin.js';
import type { RouteMount } from '../api/http/app.js';
import type { StateView } from '../api/wire/schemas.js';
import { MemoryStateStore } from '../switch/state/memory-state-store.js';
import type { StateStore } from '../switch/state/state-store.js';
import { StateCorruptError } from '../switch/state/state-errors.js';
import { RestoreReport, type DurableRecords } from '../switch/state/restore-report.js';
import { primitiveRecords } from '../switch/state/primitive-records.js';
import { planPrimitiveRestore, restoreLinks, restorePorts, restoreRules, type ConfigFacts, type PrimitiveRestorePlan } from '../switch/state/restore-primitives.js';
import type { StateChange } from '../switch/state/state-record.js';
import { stateViewOf } from './state-view.js';
import { ProxyJoin } from '../switch/join/proxy-join.js';
import { joinOverlayOf } from './join-overlay.js';
import { etcdOf, moveStarTo, startProxyElection } from './proxy-ha.js';
import { desiredStateOn, takeDesiredState } from './desired-state.js';
import type { EtcdDesiredState } from '../switch/ha/desired-state.js';
import type { ProxyElection } from '../switch/ha/proxy-election.js';
import { ProxyRole } from '../switch/ha/proxy-role.js';
import { ProxyStandbyError } from '../switch/ha/proxy-standby-error.js';
import type { Etcd } from '../switch/ha/etcd.js';
import type { HaConfig } from '../switch/config/config.js';

export interface DaemonDeps {
  clock: TimerClock;
  log: Logger;
  /** Opens a port's device: the config's ports at start, and those added at run time (`POST /v1/ports`). */
  openPort(config: PortConfig): Port;
  /**
   * Whether the host has an interface of this name, checked before a run-time capture port opens (daemon/up.ts: the
   * addon's interfaceInfo); absent: the open alone decides.
   */
  interfaceExists?: (name: string) => boolean;
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
  /** Where run-time changes are saved and restored from (switch/state/); absent: memory only, nothing survives a restart. */
  state?: StateStore;
  /** The etcd of a Proxy with `ha:` (default: its members over the JSON gateway, switch/ha/etcd-gateway.ts). */
  etcd?: (ha: HaConfig) => Etcd;
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
  /** The Proxy's join listener, tokens and joined hosts (config `join:`; switch/join/). */
  join: ProxyJoin | undefined;
  /** A Proxy's election on etcd (config `ha:`; switch/ha/); absent: the only Proxy, always active. */
  election: ProxyElection | undefined;
  /** Whether this Proxy is the active one (only its plugins act): standby until the election says otherwise. */
  readonly proxyRole: ProxyRole;
  /** With `ha:`: the desired state in etcd, which the active Proxy writes before its own file. */
  private desired: EtcdDesiredState | undefined;
  /** The durable state without etcd: this daemon's own file only. */
  private readonly localDurable: DurableRecords;
  /** The parts each plugin started on this daemon, in start order (plugins/plugin.ts). */
  private readonly started = new Map<string, PluginParts>();
  private readonly pluginList: readonly AnyDaemonPlugin[];
  /** Control-message type → the plugin whose type it is. */
  private readonly controlOwners: ReadonlyMap<string, string>;
  private readonly startedAtMs: number;
  /** This daemon's /metrics: its own prom-client Registry, collected from status() at scrape time. */
  private readonly metrics: DaemonMetrics;
  /** The saved state (a memory store when the deps gave none) and what its restore did. */
  private readonly state: StateStore;
  private readonly durable: DurableRecords;

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
    this.metrics = new DaemonMetrics(async () => ({
      status: this.status(),
      rules: await this.primitives.rules(),
      nowMs: (deps.wallClock ?? Date.now)(),
      plugins: this.plugins?.registry.summaries() ?? [],
      hosts: this.config.role === 'proxy' ? (this.overlay?.hosts() ?? []) : [],
    }));
    this.pluginList = deps.plugins ?? BUILTIN_PLUGINS;
    this.proxyRole = new ProxyRole(config.ha === undefined);
    this.state = deps.state ?? new MemoryStateStore();
    const store = this.state;
    const info = store.info();
    const resetHint = info.dir ? `\`vswitch state reset --state-dir ${info.dir}\` sets it aside and starts from the config alone` : 'the state is in memory';
    this.localDurable = {
      saved: store.saved,
      write: (changes) => store.write(changes),
      report: new RestoreReport(),
      problem: (where, problem) => new StateCorruptError(info.file ?? 'the saved state', where, problem, resetHint),
    };
    // The active Proxy with `ha:` writes the desired state to etcd first: refused there, nothing changes.
    this.durable = {
      ...this.localDurable,
      write: async (changes) => {
        if (this.desired && this.proxyRole.isActive()) await this.desired.write(changes);
        await store.write(changes);
      },
    };
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
      openPort: (portConfig) => deps.openPort(portConfig),
      ...(deps.interfaceExists ? { interfaceExists: deps.interfaceExists } : {}),
      // On the Proxy the star is every config peer and every joined host; on a host, its link to the Proxy.
      isStarLink: (name) => (config.role === 'proxy' ? config.peers.some((p) => p.name === name) || this.join?.isJoined(name) === true : (config.proxies ?? [config.proxy]).includes(name)),
      durable: (change) => store.write(primitiveRecords(change)),
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
    // The join state is read (or made) before anything opens: a bad state file stops the start here.
    daemon.join = daemon.openJoin();
    const durable = daemon.durable;
    // The saved primitives against the config as it is now (a record that does not decode stops the start here).
    const plan = planPrimitiveRestore(durable.saved, configFactsOf(config), durable.report, durable.problem);
    daemon.offload = daemon.startOffload();
    try {
      for (const portConfig of config.ports) {
        if (plan.deletedConfigPorts.has(portConfig.name)) continue; // deleted at run time: it stays deleted (saved state)
        const port = daemon.primitives.portTable.openConfigPort(portConfig, deps.openPort);
        log.info('port open', { port: port.name, kind: port.kind });
      }
      // The run-time ports before links and rules: a rule may leave by one.
      const cleanup: StateChange[] = [...plan.cleanup, ...restorePorts(plan, daemon.primitives, durable.report)];
      // Ids below the saved mark are never given again, the config's rules' included (the star's gets a new one).
      if (plan.nextRuleId !== undefined) datapath.core.rules.reserveIdsBelow(plan.nextRuleId);
      await daemon.startLinks(plan);
      await daemon.join?.restore();
      cleanup.push(...restoreRules(plan, daemon.primitives, durable.report));
      if (plan.configTimeBoundMs !== undefined) daemon.primitives.restoreConfigTimeBound(plan.configTimeBoundMs);
      await daemon.startDaemonPlugins();
      await daemon.startPluginHost();
      // What was skipped leaves the state, so it says what runs (reported above, and in `vswitch state show`).
      await durable.write(cleanup);
      daemon.logRestore();
      daemon.api = await serveApi(createApp(daemon.apiDeps()), config.api.listen);
      log.info('api listening', { listen: config.api.listen });
      await daemon.join?.start();
    } catch (err) {
      await daemon.election?.stop();
      await daemon.join?.stop();
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
  private async startLinks(plan: PrimitiveRestorePlan): Promise<void> {
    const { config, deps } = this;
    if ((config.peers.length === 0 && config.join === undefined) || !config.privateKey) return;
    const create = deps.createTransport ?? realTransports(deps.native);
    const keypairSlots = this.keypairSlots();
    deps.log.info('link keypairs', { slots: keypairSlots.name });
    // Joined hosts' links are `auto` (UDP with TCP fallback), as the config's default.
    const needsTcp = config.listen.tcp !== undefined || config.join !== undefined || config.peers.some((p) => p.transport !== 'udp');
    const udp = create('udp', config.listen.udp);
    if (this.offload && 'nativeHandle' in udp) this.offload.setLinkTransport(udp as NativeUdpTransport);
    const tcp = needsTcp ? create('tcp', config.listen.tcp) : undefined;
    // TCP links are offloaded where their connections run on the addon's streams.
    if (this.offload && deps.native?.useNativeTcp && tcp && 'nativeStreamOf' in tcp) this.offload.setStreamTransport(tcp as Transport & TcpStreamSource);
    const links = new LinkManager({
      privateKey: config.privateKey,
      udp,
      ...(this.offload ? { offload: this.offload } : {}),
      ...(tcp ? { tcp } : {}),
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
      ...(config.proxies ? { proxyPeers: config.proxies, onProxyChanged: (active: string, previous: string) => moveStarTo(this.datapath, active, previous) } : {}),
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      ...(deps.randomBytes ? { randomBytes: deps.randomBytes } : {}),
      log: deps.log.child({ component: 'overlay' }),
      extensions: controlExtensions(this.pluginList.flatMap((p) => p.controlMessages ?? [])),
      onPluginMessage: (peer, type, body, from) => this.onPluginMessage(peer, type, body, from),
      events: this.bus,
      moves: {
        site: { core: this.datapath.core, isLinkPort: (id) => this.isLinkPort(id) },
        isStarLink: (name) => config.role === 'proxy' && config.peers.some((p) => p.name === name),
        onMoved: (move) => this.followMove(move),
      },
    });
    for (const peer of config.peers) {
      if (plan.deletedConfigLinks.has(peer.name)) continue; // deleted at run time: it stays deleted (saved state)
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
    restoreLinks(plan, this.primitives);
    if (config.proxy) {
      // The paper's default rule: whatever a host has no better rule or learned port for goes to the Proxy.
      this.datapath.core.rules.insert({ src: 'any', dst: 'none', target: config.proxy, owner: 'star' });
    }
    await links.start();
    this.overlay.start();
    if (config.ha) {
      const etcd = deps.etcd?.(config.ha) ?? etcdOf(config.ha);
      const log = deps.log.child({ component: 'ha' });
      const desired = (this.desired = desiredStateOn(etcd));
      const activate = () => takeDesiredState({ desired, local: this.localDurable, name: config.name, log, reload: () => this.reloadDesiredState() });
      this.election = startProxyElection({ ha: config.ha, name: config.name, overlay: this.overlay, role: this.proxyRole, clock: deps.clock, log, etcd, activate });
    }
    deps.log.info('links listening', { udp: config.listen.udp, tcp: config.listen.tcp, peers: config.peers.length });
  }

  /**
   * Each plugin's parts on this daemon (plugins/plugin.ts), in list order, each with its config section: a plugin
   * may use the exports of those before it. A plugin with nothing to do here returns undefined.
   */
  private async startDaemonPlugins(): Promise<void> {
    const { config } = this;
    // A host's VM ports come and go at run time (POST /v1/ports): it counts for VTTIF even when it starts with none.
    const hasLocalPorts = config.role === 'host' || this.datapath.ports().some((p) => p.port.kind !== 'link');
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
      state: this.durable,
      ...(config.ha ? { activity: this.proxyRole } : {}),
    };
  }

  /** On a standby Proxy: the error naming the active one (who it sees; not itself: winning, its plugins wait for etcd's state). */
  private standbyRefusal(): ProxyStandbyError | undefined {
    if (!this.election || this.proxyRole.isActive()) return undefined;
    const leader = this.election.status().leader;
    return new ProxyStandbyError(this.config.name, leader && leader.name !== this.config.name ? leader : undefined);
  }

  /** This Proxy won and took etcd's desired state: its plugins and registry take their records again. */
  private async reloadDesiredState(): Promise<void> {
    for (const parts of this.started.values()) await parts.reloadState?.();
    await this.plugins?.registry.reloadState();
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
    // Policies and modules hear of moves too (`vm-moved` plugin events), both at detection and at convergence.
    this.bus.on(['vm-moved', 'vm-move-converged'], (event) => this.plugins?.registry.publish(moveEventBody(event)));
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
      state: this.durable,
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      log: deps.log.child({ component: 'plugins' }),
      events: this.bus,
      ...(config.ha ? { activity: this.proxyRole } : {}),
    });
  }

  /** On a Proxy with `join:`: its join state, read or made now; its listener starts last (ProxyJoin.start). */
  private openJoin(): ProxyJoin | undefined {
    const { config, deps } = this;
    const join = config.join;
    const privateKey = config.privateKey;
    if (config.role !== 'proxy' || join === undefined || privateKey === undefined) return undefined;
    return ProxyJoin.open({
      config: join,
      overlay: joinOverlayOf({ config: { ...config, privateKey, join }, primitives: this.primitives, datapath: this.datapath, links: () => this.links }),
      clock: deps.clock,
      wallClock: deps.wallClock ?? Date.now,
      randomBytes: deps.randomBytes ?? ((n) => new Uint8Array(randomBytes(n))),
      log: deps.log.child({ component: 'join' }),
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

  /** The port with this id is a link (not a VM port); looked up only when a MAC is new or moved. */
  private isLinkPort(id: number): boolean {
    const name = this.datapath.core.portName(id);
    return name !== undefined && this.datapath.get(name)?.port.kind === 'link';
  }

  /** Proxy: every started plugin follows a VM move (the fast path drops its rules toward the old host). */
  private async followMove(move: VmMove): Promise<void> {
    const started = [...this.started];
    const results = await Promise.allSettled(started.map(([, parts]) => Promise.resolve().then(() => parts.onVmMoved?.(move))));
    const failed: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      failed.push(started[i]![0]);
      this.deps.log.warn('plugin: following a vm move failed', { plugin: started[i]![0], ...move, err: r.reason });
    });
    // Each plugin follows on its own; one that failed makes the move not followed everywhere (vm-move-converged).
    if (failed.length > 0) throw new Error(`plugins ${failed.join(', ')} failed to follow the move`);
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
    return this.config.proxy === undefined || name === (this.overlay?.proxyPeer ?? this.config.proxy);
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

  /** What the restore did: one line, and a warning per record it skipped (the config won). */
  private logRestore(): void {
    const outcomes = this.durable.report.outcomes();
    const info = this.state.info();
    for (const o of outcomes) if (o.outcome === 'skipped') this.deps.log.warn('state: saved change skipped', { kind: o.kind, key: o.key, reason: o.reason });
    if (info.dir === undefined && outcomes.length === 0) return;
    this.deps.log.info('state restored', {
      file: info.file,
      records: info.records,
      restored: outcomes.filter((o) => o.outcome === 'restored').length,
      skipped: outcomes.filter((o) => o.outcome === 'skipped').length,
      tornBytesDropped: info.tornBytesDropped,
      openMs: Math.round(info.openMs * 10) / 10,
    });
  }

  /** The saved state, where each thing comes from and what the restore did (GET /v1/state). */
  stateView(): StateView {
    return stateViewOf({ config: this.config, info: this.state.info(), saved: this.state.saved, report: this.durable.report, links: this.primitives.linksNow(), ports: this.primitives.portsNow() });
  }

  async stop(): Promise<void> {
    this.housekeeping?.cancel();
    await this.election?.stop(); // first: the standby takes over while this one winds down
    await this.join?.stop();
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
    const star = this.overlay?.star();
    const moves = this.overlay?.moveStats();
    const election = this.election?.status();
    const following = this.overlay?.following();
    return {
      name: this.config.name,
      role: this.config.role,
      version: this.deps.version,
      uptimeS: Math.round((this.deps.clock.now() - this.startedAtMs) / 100) / 10,
      ports: this.portStatuses(),
      links: this.linkStatuses(),
      offload: this.offloadStats(),
      ...(star ? { star } : {}),
      refused: {
        underlay: this.links?.underlayDrops() ?? {},
        control: { ...(this.overlay?.channel.malformed ?? {}) },
      },
      ...(moves ? { moves } : {}),
      ...(election || following ? { ha: { ...(election ? { election } : {}), ...(following ? { following } : {}) } } : {}),
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
    return this.primitives.portsNow();
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
    const where = { isProxy: this.config.role === 'proxy', standby: () => this.standbyRefusal() };
    return [
      ...this.pluginList.map((plugin): RouteMount => (app) => plugin.routes?.(app, () => this.started.get(plugin.name)?.exports, where)),
      (app) => registerPluginRoutes(app, () => this.plugins?.registry, () => this.standbyRefusal()),
    ];
  }

  private apiDeps(): ApiDeps {
    const isProxy = this.config.role === 'proxy';
    return {
      local: this.primitives,
      status: () => this.status(),
      macs: () => this.macEntries(),
      metrics: () => this.metrics.scrape(),
      ...(isProxy ? { host: (name: string) => this.overlay?.host(name), hosts: () => this.overlay?.hosts() ?? [] } : {}),
      ...(this.join ? { join: this.join } : {}),
      mounts: this.routeMounts(),
      ...(this.config.privateKey ? { publicKey: encodeKeyBase64(publicKey(this.config.privateKey)) } : {}),
      events: this.events,
      state: () => this.stateView(),
      specText: this.deps.specText,
      listen: this.config.api.listen,
      auth: {
        tokens: this.config.api.tokens,
        requireToken: this.config.api.tokens.length > 0,
        ...(this.plugins ? { policies: { byToken: (token: string) => this.plugins?.registry.policyByToken(token), unknownToken: () => this.standbyRefusal() } } : {}),
      },
      log: this.deps.log.child({ component: 'api' }),
    };
  }
}

/** What the config makes that saved changes must not contradict (switch/state/restore-primitives.ts). */
function configFactsOf(config: DaemonConfig): ConfigFacts {
  const makesLinks = config.peers.length > 0 && config.privateKey !== undefined; // as startLinks
  return {
    makesLinks,
    peers: new Map(config.peers.map((p) => [p.name, encodeKeyBase64(p.publicKey)])),
    ports: config.ports,
    rules: config.proxy && makesLinks ? [{ src: 'any', dst: 'none' }] : [],
  };
}
