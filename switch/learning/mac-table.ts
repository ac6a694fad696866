/**
 * MacTable: where each source MAC was last seen (OVS lib/mac-learning.h).
 *
 * - Aging: a dynamic entry not refreshed for `idleTimeMs` (default 300 s, the
 *   802.1D default) is dead: `lookup` misses it (and drops it), `expire(nowMs)`
 *   sweeps them.
 * - Moves: learning a known MAC on another port moves it and counts a move
 *   (a VM migrated, or a loop/spoof if it flaps); `lastMovedFrom` then says
 *   the port it came from (a field, not a result object: nothing allocated).
 * - Overflow: with `maxEntries` dynamic entries, learning a new MAC first
 *   evicts the least recently seen entry OF THE PORT WITH THE MOST ENTRIES.
 *   A port flooding random source MACs (the "MAC flooding attack") then only
 *   evicts its own entries, never the other ports' (OVS does the same).
 * - Static entries (`addStatic`) never age, are never evicted, are not
 *   counted against `maxEntries`, and learning does not move them.
 *
 * Cost. Every dynamic entry sits in its port's intrusive LRU list (refresh =
 * unlink + append, O(1)). Lists are in last-seen order, so `expire` walks each
 * port's list from the oldest end and stops at the first live entry:
 * O(expired + ports), never a full sweep. Eviction scans the ports (not the
 * entries) to find the fullest: O(ports), only when the table is full.
 *
 * Keyed by MAC only: the switch is VLAN-unaware (tags are carried through).
 */
import type { Mac } from '../frame/mac.js';
import { MacTableOptionsError } from './mac-table-options-error.js';

export type LearnResult = 'new' | 'refresh' | 'moved' | 'static';

export interface MacTableOptions {
  idleTimeMs?: number;
  maxEntries?: number;
}

export interface MacEntryView {
  mac: Mac;
  port: number;
  isStatic: boolean;
  /** Last time a frame from this MAC was seen; static entries: when added. */
  lastSeenMs: number;
}

export interface MacTableStats {
  size: number;
  staticEntries: number;
  totalLearned: number;
  totalExpired: number;
  totalEvicted: number;
  totalMoved: number;
}

export const DEFAULT_IDLE_TIME_MS = 300_000;
export const DEFAULT_MAX_ENTRIES = 8192;

interface MacEntry {
  readonly mac: Mac;
  port: number;
  lastSeenMs: number;
  isStatic: boolean;
  /** Neighbours in the port's LRU list (older = prev). Unused for static entries. */
  prev: MacEntry | undefined;
  next: MacEntry | undefined;
}

/** A port's dynamic entries, oldest at head. */
interface PortList {
  head: MacEntry | undefined;
  tail: MacEntry | undefined;
  count: number;
}

export class MacTable {
  readonly idleTimeMs: number;
  readonly maxEntries: number;
  private readonly byMac = new Map<Mac, MacEntry>();
  private readonly lists = new Map<number, PortList>();
  private dynamicCount = 0;
  private staticCount = 0;
  private learned = 0;
  private expired = 0;
  private evicted = 0;
  private moved = 0;
  /** The port the MAC of the last 'moved' result was on before (-1 before any move). Valid until the next learn. */
  lastMovedFrom = -1;
  /**
   * Called after any change that can alter a forwarding decision: a MAC learned,
   * moved, aged, evicted or forgotten, a static entry set or removed (not a
   * refresh). A decision cache (the addon's flow table) flushes on it.
   */
  onChange: (() => void) | undefined;

  constructor({ idleTimeMs = DEFAULT_IDLE_TIME_MS, maxEntries = DEFAULT_MAX_ENTRIES }: MacTableOptions = {}) {
    if (!(idleTimeMs > 0)) throw new MacTableOptionsError('idleTimeMs', `must be > 0 (got ${idleTimeMs})`);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new MacTableOptionsError('maxEntries', `must be an integer >= 1 (got ${maxEntries})`);
    }
    this.idleTimeMs = idleTimeMs;
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.byMac.size;
  }

  /** Records that `mac` was seen on `port` at `nowMs`. */
  learn(mac: Mac, port: number, nowMs: number): LearnResult {
    let entry = this.byMac.get(mac);
    if (entry !== undefined) {
      if (entry.isStatic) return 'static';
      if (nowMs - entry.lastSeenMs < this.idleTimeMs) {
        entry.lastSeenMs = nowMs;
        if (entry.port === port) {
          this.touch(entry);
          return 'refresh';
        }
        this.lastMovedFrom = entry.port;
        this.unlink(entry);
        entry.port = port;
        this.append(entry);
        this.moved++;
        this.onChange?.();
        return 'moved';
      }
      // Dead but not yet swept: it expires now and the MAC is learned afresh.
      this.drop(entry);
      this.expired++;
    }
    if (this.dynamicCount >= this.maxEntries) this.evictOne();
    entry = { mac, port, lastSeenMs: nowMs, isStatic: false, prev: undefined, next: undefined };
    this.byMac.set(mac, entry);
    this.append(entry);
    this.dynamicCount++;
    this.learned++;
    this.onChange?.();
    return 'new';
  }

  /**
   * Traffic from `mac` on `port` seen elsewhere (the flow offload's counters): refreshes its entry only if it is
   * a live dynamic entry on that port — never learns, moves or expires anything. True when refreshed.
   */
  refresh(mac: Mac, port: number, nowMs: number): boolean {
    const entry = this.byMac.get(mac);
    if (entry === undefined || entry.isStatic || entry.port !== port || nowMs - entry.lastSeenMs >= this.idleTimeMs) return false;
    if (nowMs > entry.lastSeenMs) entry.lastSeenMs = nowMs;
    this.touch(entry);
    return true;
  }

  /** The port `mac` was last seen on, or undefined (unknown or aged out). */
  lookup(mac: Mac, nowMs: number): number | undefined {
    const entry = this.byMac.get(mac);
    if (entry === undefined) return undefined;
    if (!entry.isStatic && nowMs - entry.lastSeenMs >= this.idleTimeMs) {
      this.drop(entry);
      this.expired++;
      return undefined;
    }
    return entry.port;
  }

  /** Removes every dynamic entry idle for idleTimeMs or more; returns how many. */
  expire(nowMs: number): number {
    let count = 0;
    for (const list of this.lists.values()) {
      while (list.head !== undefined && nowMs - list.head.lastSeenMs >= this.idleTimeMs) {
        this.drop(list.head);
        count++;
      }
    }
    this.expired += count;
    return count;
  }

  /** The port went away: forget what was learned on it (static entries stay). Returns how many. */
  forgetPort(port: number): number {
    const list = this.lists.get(port);
    if (list === undefined) return 0;
    const count = list.count;
    while (list.head !== undefined) this.drop(list.head);
    this.lists.delete(port);
    return count;
  }

  /** Adds or overwrites a static entry (replacing any dynamic one for that MAC). */
  addStatic(mac: Mac, port: number, nowMs = 0): void {
    const existing = this.byMac.get(mac);
    if (existing !== undefined) {
      if (existing.isStatic) {
        existing.port = port;
        this.onChange?.();
        return;
      }
      this.drop(existing);
    }
    this.byMac.set(mac, { mac, port, lastSeenMs: nowMs, isStatic: true, prev: undefined, next: undefined });
    this.staticCount++;
    this.onChange?.();
  }

  removeStatic(mac: Mac): boolean {
    const entry = this.byMac.get(mac);
    if (entry === undefined || !entry.isStatic) return false;
    this.byMac.delete(mac);
    this.staticCount--;
    this.onChange?.();
    return true;
  }

  /** Forgets a dynamic entry (e.g. an operator flush of one MAC). */
  forget(mac: Mac): boolean {
    const entry = this.byMac.get(mac);
    if (entry === undefined || entry.isStatic) return false;
    this.drop(entry);
    return true;
  }

  entries(): MacEntryView[] {
    const views: MacEntryView[] = [];
    for (const entry of this.byMac.values()) {
      views.push({ mac: entry.mac, port: entry.port, isStatic: entry.isStatic, lastSeenMs: entry.lastSeenMs });
    }
    return views;
  }

  /** Dynamic entries per port (what eviction balances). */
  countOnPort(port: number): number {
    return this.lists.get(port)?.count ?? 0;
  }

  stats(): MacTableStats {
    return {
      size: this.byMac.size,
      staticEntries: this.staticCount,
      totalLearned: this.learned,
      totalExpired: this.expired,
      totalEvicted: this.evicted,
      totalMoved: this.moved,
    };
  }

  /** Evicts the oldest entry of the port with the most dynamic entries (lowest port id on a tie). */
  private evictOne(): void {
    let fullest: PortList | undefined;
    let fullestPort = Infinity;
    for (const [port, list] of this.lists) {
      if (
        list.head !== undefined &&
        (fullest === undefined || list.count > fullest.count || (list.count === fullest.count && port < fullestPort))
      ) {
        fullest = list;
        fullestPort = port;
      }
    }
    if (fullest?.head === undefined) return;
    this.drop(fullest.head);
    this.evicted++;
  }

  /** Removes a dynamic entry from the map and its list. */
  private drop(entry: MacEntry): void {
    this.byMac.delete(entry.mac);
    this.unlink(entry);
    this.dynamicCount--;
    this.onChange?.();
  }

  private touch(entry: MacEntry): void {
    const list = this.lists.get(entry.port)!;
    if (list.tail === entry) return;
    this.unlinkFrom(list, entry);
    this.appendTo(list, entry);
  }

  private append(entry: MacEntry): void {
    let list = this.lists.get(entry.port);
    if (list === undefined) {
      list = { head: undefined, tail: undefined, count: 0 };
      this.lists.set(entry.port, list);
    }
    this.appendTo(list, entry);
  }

  /** Unlinks from the port's list, and drops the list when it empties (port ids are not reused). */
  private unlink(entry: MacEntry): void {
    const list = this.lists.get(entry.port);
    if (list === undefined) return;
    this.unlinkFrom(list, entry);
    if (list.count === 0) this.lists.delete(entry.port);
  }

  private appendTo(list: PortList, entry: MacEntry): void {
    entry.prev = list.tail;
    entry.next = undefined;
    if (list.tail !== undefined) list.tail.next = entry;
    else list.head = entry;
    list.tail = entry;
    list.count++;
  }

  private unlinkFrom(list: PortList, entry: MacEntry): void {
    if (entry.prev !== undefined) entry.prev.next = entry.next;
    else list.head = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    else list.tail = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    list.count--;
  }
}
