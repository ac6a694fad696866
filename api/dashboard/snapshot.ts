/**
 * The dashboard's picture of the overlay at one moment: what `GET /v1/events`
 * pushes as its `snapshot` event once a second.
 *
 * On the Proxy it is the whole overlay: the Proxy's own star links, and for
 * each host it knows, that host's interfaces (its VMs' ports), links (star and
 * fast path, with transport and byte counters), rule table (with hit counters)
 * and MAC table, fetched with the relayed primitives. On a host it is that
 * host alone. Throughput is not computed here: the page derives it from the
 * byte counters of two snapshots.
 *
 * Bounded: at most MAX_HOSTS hosts, and per host MAX_RULES rules, MAX_MACS
 * MAC entries, MAX_INTERFACES interfaces (`truncated` says when something was
 * cut). A host that does not answer within the relay's timeout is listed with
 * `error` and the rest of the snapshot still goes out. Snapshots are built
 * only while someone watches, and at most once per `minIntervalMs` however
 * many pages watch (SnapshotSource shares the one in flight).
 */
import type { ApiDeps } from '../http/deps.js';
import type { Status } from '../wire/schemas.js';
import type { InterfaceView, MacView, Primitives, RuleView } from '../../switch/overlay/primitives.js';
import type { LinkStatus } from '../../switch/link/link-manager.js';

export const MAX_HOSTS = 64;
export const MAX_RULES = 100;
export const MAX_MACS = 64;
export const MAX_INTERFACES = 32;

export interface DashboardLink {
  /** The peer daemon's name (the link's name). */
  peer: string;
  state: 'up' | 'connecting';
  transport: string;
  mode: string;
  rxBytes: number;
  txBytes: number;
  lastHandshakeAt?: string;
}

export interface DashboardVm {
  /** The local port (TAP or capture interface) the VM sits on. */
  port: string;
  kind: string;
  state: 'up' | 'down';
  /** MACs learned on that port. */
  macs: string[];
  rxBytes: number;
  txBytes: number;
}

export interface DashboardHost {
  name: string;
  state: 'up' | 'down';
  /** Set when the host's tables could not be read (it did not answer). */
  error?: string;
  vms: DashboardVm[];
  links: DashboardLink[];
  rules: RuleView[];
}

export interface DashboardSnapshot {
  /** Wall clock, ISO 8601. */
  at: string;
  self: { name: string; role: 'host' | 'proxy'; version: string; uptimeS: number };
  /** This daemon's own links (on the Proxy: the star). */
  links: DashboardLink[];
  hosts: DashboardHost[];
  truncated: boolean;
}

/** What the snapshot is built from: a subset of ApiDeps (the public key draws hosts' links to this daemon whatever they are named). */
export type SnapshotDeps = Pick<ApiDeps, 'local' | 'status' | 'macs' | 'host' | 'hosts' | 'publicKey'>;

/** Public key → daemon name: a link is drawn to the daemon it reaches, not to its name (fast paths are "fp-hN"). */
type PeerNames = ReadonlyMap<string, string>;

export async function buildSnapshot(deps: SnapshotDeps, nowWallMs: number): Promise<DashboardSnapshot> {
  const status = deps.status();
  let truncated = false;
  const self = { name: status.name, role: status.role, version: status.version, uptimeS: status.uptimeS };
  const peers: PeerNames = new Map([
    ...status.links.map((l) => [l.publicKey, l.name] as const),
    ...(deps.publicKey ? [[deps.publicKey, status.name] as const] : []),
  ]);
  const ownLinks = status.links.map((l) => linkOf(l, peers));
  let hosts: DashboardHost[];
  if (deps.hosts && deps.host) {
    const known = deps.hosts();
    if (known.length > MAX_HOSTS) truncated = true;
    hosts = await Promise.all(
      known.slice(0, MAX_HOSTS).map(async (h) => {
        const primitives = deps.host?.(h.name);
        if (!primitives) return { name: h.name, state: h.state, error: 'unknown host', vms: [], links: [], rules: [] };
        try {
          const r = await hostTables(primitives, peers);
          truncated ||= r.truncated;
          return { name: h.name, state: h.state, ...r.host };
        } catch (err) {
          return { name: h.name, state: h.state, error: errorCode(err), vms: [], links: [], rules: [] };
        }
      }),
    );
  } else {
    const r = await hostTables(deps.local, peers, deps.macs());
    truncated = r.truncated;
    hosts = [{ name: status.name, state: 'up', ...r.host }];
  }
  return { at: new Date(nowWallMs).toISOString(), self, links: ownLinks, hosts, truncated };
}

async function hostTables(
  p: Primitives,
  peers: PeerNames,
  localMacs?: MacView[],
): Promise<{ host: Pick<DashboardHost, 'vms' | 'links' | 'rules'>; truncated: boolean }> {
  const [interfaces, links, rules, macs] = await Promise.all([
    p.interfaces(),
    p.links(),
    p.rules(),
    localMacs ? Promise.resolve(localMacs) : p.macs ? p.macs() : Promise.resolve<MacView[]>([]),
  ]);
  const vmPorts = interfaces.filter((i) => i.kind !== 'link');
  const truncated = vmPorts.length > MAX_INTERFACES || rules.length > MAX_RULES || macs.length > MAX_MACS;
  const kept = macs.slice(0, MAX_MACS);
  return {
    host: {
      vms: vmPorts.slice(0, MAX_INTERFACES).map((i) => vmOf(i, kept)),
      links: links.map((l) => linkOf(l, peers)),
      rules: rules.slice(0, MAX_RULES),
    },
    truncated,
  };
}

function vmOf(i: InterfaceView, macs: MacView[]): DashboardVm {
  return {
    port: i.name,
    kind: i.kind,
    state: i.state,
    macs: macs.filter((m) => m.port === i.name).map((m) => m.mac),
    rxBytes: i.rxBytes,
    txBytes: i.txBytes,
  };
}

function linkOf(l: LinkStatus | Status['links'][number], peers: PeerNames): DashboardLink {
  return {
    peer: peers.get(l.publicKey) ?? l.name,
    state: l.state,
    transport: l.transport,
    mode: l.mode,
    rxBytes: l.rxBytes,
    txBytes: l.txBytes,
    ...(l.lastHandshakeAt ? { lastHandshakeAt: l.lastHandshakeAt } : {}),
  };
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unavailable';
}

/**
 * Shares snapshots between watchers: `current()` returns the snapshot being
 * built, or the last one if it is younger than `minIntervalMs`.
 */
export class SnapshotSource {
  private last: { atMs: number; snapshot: Promise<DashboardSnapshot> } | undefined;

  constructor(
    private readonly deps: SnapshotDeps,
    private readonly clock: { now(): number },
    private readonly wallClock: () => number,
    private readonly minIntervalMs = 900,
  ) {}

  current(): Promise<DashboardSnapshot> {
    const now = this.clock.now();
    if (this.last && now - this.last.atMs < this.minIntervalMs) return this.last.snapshot;
    const snapshot = buildSnapshot(this.deps, this.wallClock());
    this.last = { atMs: now, snapshot };
    return snapshot;
  }
}
