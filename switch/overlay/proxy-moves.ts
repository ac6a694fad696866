/**
 * ProxyMoves: the Proxy follows a VM that moved from one host to another (a live migration, a namespace VM moved by
 * the lab), so that nobody keeps sending its frames to the host it left.
 *
 * Detection. The Proxy's MAC table learns every VM behind the star link of its host; a move is a MAC the table had
 * behind host A's link learned behind host B's (SwitchCore.onLearned, 'moved' with the old port). Not every such
 * learn is a move: a host that gets a frame over a fast link for a destination it does not know sends it up its
 * default rule, so the Proxy sees the frame's source behind the host that merely relayed it (a hairpin — it happens
 * exactly while fast paths are being re-pointed after a move). So a move is announced only on evidence that the VM
 * itself is at B:
 *   - the frame that moved it went to a group address: the guest's own announcement after a migration (QEMU's RARP,
 *     the lab's gratuitous ARP). Group frames never travel fast links, so one arriving on B's star link came from a
 *     port of B's;
 *   - or B says so: a host tells its Proxy when a MAC appears on one of its own ports (`mac-arrived`, host-moves.ts).
 *     A claim confirms a unicast move of the last CLAIM_WINDOW_MS, or moves the MAC itself if the Proxy still has it
 *     elsewhere. It is the second chance when the guest's announcement was lost, or when it sent none.
 * A MAC the table has aged out (a VM whose traffic all went over fast paths) is remembered here by its last host, so
 * its arrival elsewhere is still a move.
 *
 * A move over the bounds is not lost but deferred: tick() (once a second) announces it when a token is free, if the
 * VM is still where it moved to (at most MAX_DEFERRED_MOVES wait; the oldest is dropped).
 *
 * Announcement (bounded by MoveLimiter: per new host and per MAC). `vm-moved` is raised at once (the plugins act on
 * it: the fast path deletes its rules toward A), `mac-moved {id, mac, host: B}` goes to every host whose star link
 * is up, and each answers `mac-moved-ack` once it has re-pointed its table (host-moves.ts). When every host told has
 * answered and the plugins' handlers (`onMoved`) have settled, `vm-move-converged` gives the time since detection;
 * after MOVE_CONVERGE_TIMEOUT_MS it is raised anyway, `complete: false`, naming the hosts that did not answer (a
 * plugin whose handler failed makes it `complete: false` too, at once).
 * A new move of the same MAC supersedes a pending one (no event for the old).
 *
 * The data path is untouched: the table moves the entry as any learning switch does, whether announced or not; the
 * work here runs only on a MAC's new or moved result, and the announcement after the frame's batch (a microtask).
 */
import type { TimerClock, Timer } from '../clock.js';
import type { EventSink } from '../events.js';
import { formatMac, parseMac, type Mac } from '../frame/mac.js';
import type { Logger } from '../log.js';
import { NEW_MAC } from '../pipeline/forward.js';
import type { ControlDropReason, MacMovedMessage } from './control-messages.js';
import { MoveLimiter, type MoveBounds } from './move-limiter.js';
import { zeroMoveStats, type MoveSite, type MoveStats, type VmMove } from './move-site.js';

/** A move not followed everywhere this long after detection is reported incomplete. */
export const MOVE_CONVERGE_TIMEOUT_MS = 5000;
/** Moves waiting for acks at most; beyond, the oldest is reported incomplete. */
export const MAX_PENDING_MOVES = 256;
/** A host's claim confirms a unicast move to it this recent. */
export const CLAIM_WINDOW_MS = 2000;
/** Unicast moves waiting for a claim, and MACs remembered by last host, at most (oldest forgotten). */
export const MAX_TENTATIVE_MOVES = 1024;
export const MAX_REMEMBERED_MACS = 8192;
/** Moves over the bounds waiting for a token, at most. */
export const MAX_DEFERRED_MOVES = 1024;
/** Refusals logged one by one up to this many per reason; after that only the 16th, 32nd, 64th… */
const LOG_EVERY_REFUSAL_UP_TO = 10;

export interface ProxyMovesOptions {
  /** The Proxy's name: the host of the VMs on its own ports. */
  readonly name: string;
  readonly site: MoveSite;
  /** A link of the Proxy to one of its hosts (the star), by name. */
  isStarLink(name: string): boolean;
  /** The hosts to tell: star links with a session now. */
  hostsUp(): string[];
  send(peer: string, message: MacMovedMessage): boolean;
  /** Counts a refused message under a fixed reason (the control channel's counters). */
  refuse(peer: string, reason: ControlDropReason, detail: string): void;
  readonly clock: TimerClock;
  readonly events: EventSink;
  readonly log: Logger;
  /** The plugins follow the move (the fast path deletes its rules toward `from`); convergence waits for it. */
  onMoved?(move: VmMove): void | Promise<void>;
  readonly bounds?: MoveBounds;
}

interface PendingMove {
  readonly id: number;
  readonly mac: Mac;
  readonly move: VmMove;
  readonly detectedMs: number;
  readonly asked: number;
  readonly waiting: Set<string>;
  pluginsDone: boolean;
  /** A plugin's handler threw: the move cannot be called followed everywhere. */
  pluginFailed: boolean;
  timer: Timer | undefined;
}

interface Tentative {
  readonly from: string;
  readonly to: string;
  readonly atMs: number;
}

interface Deferred {
  readonly from: string;
  readonly to: string;
  /** A host's claim, refused before the Proxy learned it: the retry learns it too. */
  readonly isClaim: boolean;
}

export class ProxyMoves {
  readonly #options: ProxyMovesOptions;
  readonly #limiter: MoveLimiter;
  readonly #pending = new Map<number, PendingMove>();
  readonly #pendingByMac = new Map<Mac, PendingMove>();
  readonly #tentative = new Map<Mac, Tentative>();
  readonly #lastHost = new Map<Mac, string>();
  readonly #deferred = new Map<Mac, Deferred>();
  readonly #stats = zeroMoveStats();
  readonly #refusalsLogged = { 'host-rate': 0, 'mac-rate': 0 };
  #nextId = 1;

  constructor(options: ProxyMovesOptions) {
    this.#options = options;
    this.#limiter = new MoveLimiter(options.bounds);
    options.site.core.onLearned = (mac, port, fromPort, toGroup, nowMs) => this.#learned(mac, port, fromPort, toGroup, nowMs);
  }

  /** A host's claim that `macText` appeared on one of its ports (`mac-arrived`, already checked by the channel). */
  arrived(peer: string, macText: string): void {
    const { site, isStarLink, clock } = this.#options;
    const core = site.core;
    const peerPort = core.portId(peer);
    if (!isStarLink(peer) || peerPort === undefined) return this.#options.refuse(peer, 'mac-arrived-not-from-host', 'an arrival from a peer that is not a host');
    const mac = parseMac(macText)!;
    const nowMs = clock.now();
    const entryPort = core.macTable.lookup(mac, nowMs);
    const known = entryPort === undefined ? this.#lastHost.get(mac) : this.#hostOf(entryPort);
    if (known === peer) {
      // Already behind the claimer: a unicast frame moved it here just now (confirmed), or nothing moved.
      const t = this.#tentative.get(mac);
      if (t !== undefined && t.to === peer && nowMs - t.atMs <= CLAIM_WINDOW_MS) {
        this.#tentative.delete(mac);
        this.#detected(mac, t.from, peer, nowMs);
      }
      return;
    }
    if (entryPort !== undefined && known === undefined) return; // behind a link of the Proxy's own (not the star): leave it
    if (known !== undefined && this.#refused(peer, mac, nowMs)) return this.#defer(mac, { from: known, to: peer, isClaim: true });
    this.#claim(mac, known, peer, peerPort, nowMs);
  }

  /** Once a second: the deferred moves that may go now, if their VM is still where it moved to. */
  tick(nowMs: number): void {
    const { site } = this.#options;
    for (const [mac, d] of [...this.#deferred]) {
      const port = site.core.macTable.lookup(mac, nowMs);
      const at = port === undefined ? this.#lastHost.get(mac) : this.#hostOf(port);
      const toPort = site.core.portId(d.to);
      const stillValid = d.isClaim ? at === d.from && toPort !== undefined : at === d.to;
      if (!stillValid) {
        this.#deferred.delete(mac);
        continue;
      }
      if (this.#limiter.take(d.to, mac, nowMs) !== undefined) continue;
      this.#deferred.delete(mac);
      if (d.isClaim) this.#claim(mac, d.from, d.to, toPort!, nowMs);
      else this.#announce(mac, d.from, d.to, nowMs);
    }
  }

  /** Moves waiting for a token. */
  get deferred(): number {
    return this.#deferred.size;
  }

  /** A host acknowledged move `id`. */
  acked(peer: string, id: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined || !pending.waiting.delete(peer)) return this.#options.refuse(peer, 'mac-moved-ack-unexpected', `an ack of move ${id}, not waited for from this host`);
    this.#check(pending);
  }

  stats(): MoveStats {
    return { ...this.#stats, refused: { ...this.#limiter.refused } };
  }

  /** Moves still waiting for acks. */
  get pending(): number {
    return this.#pending.size;
  }

  stop(): void {
    if (this.#options.site.core.onLearned !== undefined) this.#options.site.core.onLearned = undefined;
    for (const p of this.#pending.values()) p.timer?.cancel();
    this.#pending.clear();
    this.#pendingByMac.clear();
  }

  #learned(mac: Mac, port: number, fromPort: number, toGroup: boolean, nowMs: number): void {
    const to = this.#hostOf(port);
    if (to === undefined) return;
    const from = fromPort === NEW_MAC ? this.#lastHost.get(mac) : this.#hostOf(fromPort);
    this.#remember(mac, to);
    if (from === undefined || from === to) return;
    if (toGroup) {
      // After the frame's batch: the announcement sends messages and raises events.
      queueMicrotask(() => this.#detected(mac, from, to, nowMs));
      return;
    }
    bounded(this.#tentative, mac, { from, to, atMs: nowMs }, MAX_TENTATIVE_MOVES);
  }

  /** The host a port of the Proxy leads to: a star link's host, or the Proxy itself for its own ports. */
  #hostOf(portId: number): string | undefined {
    const name = this.#options.site.core.portName(portId);
    if (name === undefined) return undefined;
    if (!this.#options.site.isLinkPort(portId)) return this.#options.name;
    return this.#options.isStarLink(name) ? name : undefined;
  }

  #remember(mac: Mac, host: string): void {
    if (this.#lastHost.get(mac) !== host) bounded(this.#lastHost, mac, host, MAX_REMEMBERED_MACS);
  }

  /** Learns `mac` behind host `to` on its claim, and announces the move when it was at `from`. */
  #claim(mac: Mac, from: string | undefined, to: string, toPort: number, nowMs: number): void {
    if (this.#options.site.core.macTable.learn(mac, toPort, nowMs) === 'static') return;
    this.#remember(mac, to);
    if (from !== undefined) this.#announce(mac, from, to, nowMs);
  }

  #detected(mac: Mac, from: string, to: string, nowMs: number): void {
    if (this.#refused(to, mac, nowMs)) this.#defer(mac, { from, to, isClaim: false });
    else this.#announce(mac, from, to, nowMs);
  }

  #defer(mac: Mac, move: Deferred): void {
    bounded(this.#deferred, mac, move, MAX_DEFERRED_MOVES);
  }

  /** True (counted, logged sparingly) when the bounds refuse `mac` moving to `to` now. */
  #refused(to: string, mac: Mac, nowMs: number): boolean {
    const reason = this.#limiter.take(to, mac, nowMs);
    if (reason === undefined) return false;
    const n = ++this.#refusalsLogged[reason];
    if (n <= LOG_EVERY_REFUSAL_UP_TO || (n & (n - 1)) === 0) {
      this.#options.log.warn('vm move not announced: bound reached', { mac: formatMac(mac), to, reason, count: this.#limiter.refused[reason] });
    }
    return true;
  }

  #announce(mac: Mac, from: string, to: string, nowMs: number): void {
    const { events, log, clock } = this.#options;
    const move: VmMove = { mac: formatMac(mac), from, to };
    this.#stats.detected++;
    log.info('vm moved', { ...move });
    events.emit({ type: 'vm-moved', ...move });
    this.#deferred.delete(mac);
    const superseded = this.#pendingByMac.get(mac);
    if (superseded !== undefined) this.#drop(superseded);
    const id = this.#nextId++;
    const message: MacMovedMessage = { t: 'mac-moved', id, mac: move.mac, host: to };
    const waiting = new Set(this.#options.hostsUp().filter((host) => this.#options.send(host, message)));
    const pending: PendingMove = { id, mac, move, detectedMs: nowMs, asked: waiting.size, waiting, pluginsDone: false, pluginFailed: false, timer: undefined };
    this.#pending.set(id, pending);
    this.#pendingByMac.set(mac, pending);
    pending.timer = clock.after(MOVE_CONVERGE_TIMEOUT_MS, () => this.#finish(pending));
    if (this.#pending.size > MAX_PENDING_MOVES) this.#finish(this.#pending.values().next().value!);
    void Promise.resolve()
      .then(() => this.#options.onMoved?.(move))
      .catch((err: unknown) => {
        pending.pluginFailed = true;
        log.warn('vm move: a plugin failed to follow it', { ...move, err });
      })
      .finally(() => {
        pending.pluginsDone = true;
        this.#check(pending);
      });
  }

  #check(pending: PendingMove): void {
    if (pending.waiting.size === 0 && pending.pluginsDone) this.#finish(pending);
  }

  #finish(pending: PendingMove): void {
    if (this.#pending.get(pending.id) !== pending) return;
    this.#drop(pending);
    const convergeMs = this.#options.clock.now() - pending.detectedMs;
    const complete = pending.waiting.size === 0 && pending.pluginsDone && !pending.pluginFailed;
    if (complete) {
      this.#stats.converged++;
      this.#stats.lastConvergeMs = convergeMs;
    } else this.#stats.incomplete++;
    const unacked = [...pending.waiting].sort().join(',');
    const fields = { ...pending.move, convergeMs, hosts: pending.asked, complete, ...(unacked === '' ? {} : { unacked }) };
    if (complete) this.#options.log.info('vm move followed everywhere', fields);
    else this.#options.log.warn('vm move not followed everywhere in time', fields);
    this.#options.events.emit({ type: 'vm-move-converged', ...fields });
  }

  #drop(pending: PendingMove): void {
    pending.timer?.cancel();
    this.#pending.delete(pending.id);
    if (this.#pendingByMac.get(pending.mac) === pending) this.#pendingByMac.delete(pending.mac);
  }
}

/** Sets `key` as the newest entry of `map`, forgetting the oldest beyond `max`. */
function bounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
