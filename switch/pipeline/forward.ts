/**
 * SwitchCore: the forwarding pipeline. Pure — no I/O, no timers, time comes
 * in as `nowMs` — and the one authority on what a frame does.
 *
 * forward(frame, inPort, nowMs), in order:
 *   0. the in-port must be registered, else drop 'unknown-in-port';
 *      rx counters of the in-port are bumped; at most every expireIntervalMs
 *      the MAC table's aged entries are swept (cheap: see MacTable);
 *   1. inspect/validate the frame → drop with the FrameDropReason;
 *   2. learn the source MAC on the in-port (move detection in MacTable); a
 *      MAC new or moved is told to `onLearned` (rare: never on a refresh);
 *   3. destination broadcast/multicast → flood to every `floods` port except
 *      the in-port;
 *   4. rule lookup; the best non-default rule whose target port exists wins →
 *      output to it (target == in-port → drop 'hairpin');
 *   5. learned destination → output (learned on the in-port → drop
 *      'same-port': the frame is already on the right segment, as a bridge filters);
 *   6. the best default rule (dst none) whose target exists → output (hairpin
 *      check too);
 *   7. otherwise unknown unicast → flood.
 *
 * Rules name their target port; a rule whose target is not registered (yet)
 * is skipped as if absent and counted in `ruleTargetMissing` (once per
 * skipped rule per frame). Learning outranks the default rule (step 5 before
 * 6) and a rule outranks learning (4 before 5): the paper's default rule is
 * "the lowest possible priority", and explicit rules are the overlay's policy.
 *
 * Counters. forward() counts rx (frames, bytes), flooded frames, drops by
 * reason (on the in-port) and rule hits (frames, bytes). Tx is counted by the
 * caller with countTx(port, frames, bytes) after it has actually written the
 * batch: only the edge knows what left, and a flood would otherwise cost a
 * loop over the out-ports per frame here.
 *
 * Super-frames (TSO/GSO, switch/frame/vnet-header.ts). A TCP/UDP super-frame a TAP with offloads read is decided
 * ONCE, on its Ethernet header, as its wire frames would each be (same MACs: same learning, same rule, same
 * output). The caller says what it stands for (`wire`): every counter — rx, floods, drops, rule hits — counts the
 * wire frames and their bytes (what the VM sent, headers repeated per segment), and the maxFrameBytes check
 * ('oversize') applies to its largest wire frame, not to the super-frame.
 *
 * Hot path. No allocation per frame: the FrameInfo is reused, and decisions
 * are shared frozen objects (see decision.ts). No exceptions per frame.
 * Port ids are never reused, so a stale id (in a MAC entry, in a caller's
 * queue) can never reach a different port.
 */
import { DEFAULT_MAX_FRAME_BYTES, createFrameInfo, inspectFrame, type FrameInfo } from '../frame/ethernet.js';
import { isMulticast, type Mac } from '../frame/mac.js';
import { MacTable, type MacTableStats } from '../learning/mac-table.js';
import { RuleTable, type RuleEntry, type RuleStats, type RuleUsable } from '../rules/rule-table.js';
import {
  DROP_DECISIONS,
  zeroDropCounts,
  type Decision,
  type DropDecision,
  type DropReason,
  type FloodDecision,
  type OutPortDropReason,
  type OutputDecision,
} from './decision.js';
import { PortExistsError, PortNameInvalidError, PortNotFoundError } from './pipeline-errors.js';

export interface SwitchCoreOptions {
  /** Largest accepted frame, no FCS (default 1518: 1500 payload + header + one tag). */
  maxFrameBytes?: number;
  /** MAC entries idle this long are dead (default 300 000). */
  macIdleTimeMs?: number;
  /** Dynamic MAC entries kept at most (default 8192); overflow evicts fairly per port. */
  macMaxEntries?: number;
  /** How often forward() itself sweeps aged MAC entries (default 1000 ms); the edge may also call expire(). */
  expireIntervalMs?: number;
  /** Share a rule table (default: a new one). */
  rules?: RuleTable;
}

/** What a super-frame stands for on the wire (Datapath fills one and reuses it). */
export interface WireShape {
  frames: number;
  bytes: number;
  /** Its largest wire frame: the one maxFrameBytes applies to. */
  largestBytes: number;
}

export interface PortSpec {
  name: string;
  /** Whether broadcast, multicast and unknown unicast go out this port (the star tree's ports do). */
  floods: boolean;
}

export interface PortCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames received here that were flooded (multicast or unknown unicast). */
  floodedFrames: number;
  drops: Record<DropReason, number>;
}

export interface PortStats extends PortCounters {
  id: number;
  name: string;
  floods: boolean;
}

export interface MacEntryStatus {
  mac: number;
  port: number;
  portName: string;
  isStatic: boolean;
  ageMs: number;
}

export interface SwitchStats {
  ports: PortStats[];
  rules: RuleStats[];
  macTable: MacTableStats;
  ruleTargetMissing: number;
  unknownInPortDrops: number;
}

interface PortState {
  readonly id: number;
  readonly name: string;
  floods: boolean;
  readonly output: OutputDecision;
  flood: FloodDecision;
  readonly counters: PortCounters;
}

const DEFAULT_EXPIRE_INTERVAL_MS = 1000;
/** `fromPort` of onLearned for a MAC learned afresh. */
export const NEW_MAC = -1;

/**
 * A source MAC was learned afresh (`fromPort` NEW_MAC) or moved to `port` from `fromPort` — a VM migrated, or a
 * frame came back through a host that did not know its destination (a hairpin), or a spoof. `toGroup`: the frame
 * went to a broadcast or multicast address (a guest's announcement — QEMU's RARP, a gratuitous ARP — does).
 */
export type LearnedListener = (mac: Mac, port: number, fromPort: number, toGroup: boolean, nowMs: number) => void;
const EMPTY_FLOOD: FloodDecision = Object.freeze({ kind: 'flood', ports: Object.freeze([]) as readonly number[] });

export class SwitchCore {
  readonly rules: RuleTable;
  readonly macTable: MacTable;
  readonly maxFrameBytes: number;
  private readonly expireIntervalMs: number;
  private nextExpireMs = -Infinity;
  private nextPortId = 0;
  /** Indexed by port id; holes for removed ports. */
  private readonly ports: (PortState | undefined)[] = [];
  private readonly portsByName = new Map<string, PortState>();
  private readonly info: FrameInfo = createFrameInfo();
  private ruleTargetMissing = 0;
  /**
   * Called after any change that can alter a decision (rules, MAC table, ports). The addon's flow table
   * caches 'output' decisions and is flushed on it (switch/offload/).
   */
  onChange: (() => void) | undefined;
  /**
   * Told of every MAC learned afresh or moved, from forward() before the frame is decided (the overlay follows VM
   * moves with it: switch/overlay/proxy-moves.ts, host-moves.ts). Called on those rare results only — a refresh,
   * the per-frame case, costs one comparison. Must not throw; should defer real work.
   */
  onLearned: LearnedListener | undefined;
  /** Called before counters are read (portStats, stats, macEntries): the flow offload folds its counters in. */
  onRead: (() => void) | undefined;
  /** The rule behind the last 'output' forward() returned, if a rule decided it (for the flow offload's hit counters). */
  lastRule: RuleEntry | undefined;
  private unknownInPortDrops = 0;
  /** Wire frames the frame being forwarded stands for (1 unless a super-frame). */
  private frames = 1;
  private readonly isUsable: RuleUsable = (entry) => {
    if (this.portsByName.has(entry.rule.target)) return true;
    this.ruleTargetMissing++;
    return false;
  };

  constructor(options: SwitchCoreOptions = {}) {
    this.rules = options.rules ?? new RuleTable();
    this.macTable = new MacTable({
      ...(options.macIdleTimeMs !== undefined ? { idleTimeMs: options.macIdleTimeMs } : {}),
      ...(options.macMaxEntries !== undefined ? { maxEntries: options.macMaxEntries } : {}),
    });
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const changed = (): void => this.onChange?.();
    this.rules.onChange = changed;
    this.macTable.onChange = changed;
    this.expireIntervalMs = options.expireIntervalMs ?? DEFAULT_EXPIRE_INTERVAL_MS;
  }

  /** Registers a port; throws PortExistsError / PortNameInvalidError. Ids increase and are never reused. */
  addPort(spec: PortSpec): number {
    if (typeof spec.name !== 'string' || spec.name.length === 0) throw new PortNameInvalidError(String(spec.name));
    if (this.portsByName.has(spec.name)) throw new PortExistsError(spec.name);
    const id = this.nextPortId++;
    const state: PortState = {
      id,
      name: spec.name,
      floods: spec.floods,
      output: Object.freeze({ kind: 'output', port: id }),
      flood: EMPTY_FLOOD,
      counters: { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, floodedFrames: 0, drops: zeroDropCounts() },
    };
    this.ports[id] = state;
    this.portsByName.set(spec.name, state);
    this.rebuildFloods();
    this.onChange?.();
    return id;
  }

  /** Unregisters a port and forgets its MAC entries, static ones too (its id will never come back). */
  removePort(id: number): boolean {
    const state = this.ports[id];
    if (state === undefined) return false;
    this.ports[id] = undefined;
    this.portsByName.delete(state.name);
    this.macTable.forgetPort(id);
    for (const entry of this.macTable.entries()) {
      if (entry.isStatic && entry.port === id) this.macTable.removeStatic(entry.mac);
    }
    this.rebuildFloods();
    this.onChange?.();
    return true;
  }

  setFloods(id: number, floods: boolean): boolean {
    const state = this.ports[id];
    if (state === undefined) return false;
    if (state.floods !== floods) {
      state.floods = floods;
      this.rebuildFloods();
      this.onChange?.();
    }
    return true;
  }

  portId(name: string): number | undefined {
    return this.portsByName.get(name)?.id;
  }

  portName(id: number): string | undefined {
    return this.ports[id]?.name;
  }

  /**
   * Decides what to do with one frame that arrived on `inPort` — a super-frame once for all the wire frames `wire`
   * says it stands for. Never throws.
   */
  forward(frame: Uint8Array, inPort: number, nowMs: number, wire?: WireShape): Decision {
    const port = this.ports[inPort];
    if (port === undefined) {
      this.unknownInPortDrops++;
      return DROP_DECISIONS['unknown-in-port'];
    }
    this.lastRule = undefined;
    const counters = port.counters;
    const frames = wire === undefined ? 1 : wire.frames;
    const frameBytes = wire === undefined ? frame.length : wire.bytes;
    this.frames = frames;
    counters.rxFrames += frames;
    counters.rxBytes += frameBytes;
    if (nowMs >= this.nextExpireMs) {
      this.macTable.expire(nowMs);
      this.nextExpireMs = nowMs + this.expireIntervalMs;
    }

    // 1. validate (a super-frame's size check is its largest wire frame's)
    const limit = wire === undefined ? this.maxFrameBytes : wire.largestBytes > this.maxFrameBytes ? -1 : frame.length;
    const info = inspectFrame(frame, limit, this.info);
    if (info.kind === 'drop') return this.drop(port, info.reason);
    const src = info.src;
    const dst = info.dst;

    // 2. learn
    const learned = this.macTable.learn(src, inPort, nowMs);
    if (learned !== 'refresh' && learned !== 'static' && this.onLearned !== undefined) {
      this.onLearned(src, inPort, learned === 'moved' ? this.macTable.lastMovedFrom : NEW_MAC, isMulticast(dst), nowMs);
    }

    // 3. group destinations flood
    if (isMulticast(dst)) {
      counters.floodedFrames += frames;
      return port.flood;
    }

    // 4. non-default rule
    const explicit = this.rules.matchExplicit(src, dst, this.isUsable);
    if (explicit !== undefined) return this.outputByRule(explicit, port, frameBytes);

    // 5. learned destination
    const learnedPort = this.macTable.lookup(dst, nowMs);
    if (learnedPort !== undefined) {
      const out = this.ports[learnedPort];
      if (out !== undefined) return learnedPort === inPort ? this.drop(port, 'same-port') : out.output;
    }

    // 6. default rule
    const fallback = this.rules.matchDefault(src, this.isUsable);
    if (fallback !== undefined) return this.outputByRule(fallback, port, frameBytes);

    // 7. unknown unicast
    counters.floodedFrames += frames;
    return port.flood;
  }

  /**
   * The caller could not deliver a frame the core sent to one port (decision.ts OutPortDropReason): counted on the
   * in-port, as the core's own drops are. Unknown in-ports are ignored.
   */
  countDrop(inPort: number, reason: OutPortDropReason, frames = 1): void {
    const state = this.ports[inPort];
    if (state !== undefined) state.counters.drops[reason] += frames;
  }

  /** The caller reports what it actually wrote to `port`. Unknown ports are ignored. */
  countTx(port: number, frames: number, bytes: number): void {
    const state = this.ports[port];
    if (state === undefined) return;
    state.counters.txFrames += frames;
    state.counters.txBytes += bytes;
  }

  /** Sweeps aged MAC entries now (for an edge that prefers its own timer); returns how many. */
  expire(nowMs: number): number {
    this.nextExpireMs = nowMs + this.expireIntervalMs;
    return this.macTable.expire(nowMs);
  }

  /** Counters of one port; throws PortNotFoundError for an unknown id. */
  portStats(id: number): PortStats {
    this.onRead?.();
    const state = this.ports[id];
    if (state === undefined) throw new PortNotFoundError(id);
    return snapshotPort(state);
  }

  macTableStats(): MacTableStats {
    return this.macTable.stats();
  }

  /** MAC entries with their port's name. Entries of unregistered ports (only static ones can be) are left out. */
  macEntries(nowMs: number): MacEntryStatus[] {
    this.onRead?.();
    const statuses: MacEntryStatus[] = [];
    for (const entry of this.macTable.entries()) {
      const state = this.ports[entry.port];
      if (state === undefined) continue;
      statuses.push({
        mac: entry.mac,
        port: entry.port,
        portName: state.name,
        isStatic: entry.isStatic,
        ageMs: entry.isStatic ? 0 : Math.max(0, nowMs - entry.lastSeenMs),
      });
    }
    return statuses;
  }

  stats(): SwitchStats {
    this.onRead?.();
    const ports: PortStats[] = [];
    for (const state of this.ports) if (state !== undefined) ports.push(snapshotPort(state));
    return {
      ports,
      rules: this.rules.stats(),
      macTable: this.macTable.stats(),
      ruleTargetMissing: this.ruleTargetMissing,
      unknownInPortDrops: this.unknownInPortDrops,
    };
  }

  /**
   * Frames the addon's flow table forwarded on its own (switch/offload/), reported after the fact: rx on the
   * in-port, tx on the out-port, hits on the rule that decided the flow — the counters forward() and the
   * datapath would have bumped.
   */
  countOffloaded(inPort: number, outPort: number, frames: number, bytes: number, rule: RuleEntry | undefined): void {
    const state = this.ports[inPort];
    if (state !== undefined) {
      state.counters.rxFrames += frames;
      state.counters.rxBytes += bytes;
    }
    this.countTx(outPort, frames, bytes);
    if (rule !== undefined) {
      rule.hitFrames += frames;
      rule.hitBytes += bytes;
    }
  }

  private outputByRule(entry: RuleEntry, port: PortState, frameBytes: number): Decision {
    this.lastRule = entry;
    entry.hitFrames += this.frames;
    entry.hitBytes += frameBytes;
    // isUsable just confirmed the target exists.
    const target = this.portsByName.get(entry.rule.target)!;
    return target === port ? this.drop(port, 'hairpin') : target.output;
  }

  private drop(port: PortState, reason: DropReason): DropDecision {
    port.counters.drops[reason] += this.frames;
    return DROP_DECISIONS[reason];
  }

  private rebuildFloods(): void {
    const flooding: number[] = [];
    for (const state of this.ports) if (state !== undefined && state.floods) flooding.push(state.id);
    for (const state of this.ports) {
      if (state === undefined) continue;
      state.flood = Object.freeze({ kind: 'flood', ports: Object.freeze(flooding.filter((id) => id !== state.id)) });
    }
  }
}

function snapshotPort(state: PortState): PortStats {
  const { counters } = state;
  return {
    id: state.id,
    name: state.name,
    floods: state.floods,
    rxFrames: counters.rxFrames,
    rxBytes: counters.rxBytes,
    txFrames: counters.txFrames,
    txBytes: counters.txBytes,
    floodedFrames: counters.floodedFrames,
    drops: { ...counters.drops },
  };
}
