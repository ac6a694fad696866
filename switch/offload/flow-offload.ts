/**
 * FlowOffload: the JS half of the addon's exact-match flow cache (offload.h),
 * Open vSwitch's split between a datapath flow table and the switch core.
 *
 * The core stays the authority. The addon only repeats decisions the core
 * already made:
 *   install   after core.forward() said 'output' for a frame (so: valid, unicast
 *             destination, not flooded, not dropped) on a port that has a native
 *             input (a TAP/capture handle, or a bound link) to a port that has a
 *             native output, the datapath calls install(): (in-port, src, dst) →
 *             out-port goes into the addon, with the rule that decided it;
 *   flush     any change that could alter a decision (rules, MAC table learn/move/
 *             age/forget, ports added/removed/up/down, links bound/unbound) flushes
 *             the whole table, synchronously, before any native callback can run
 *             again; flows re-install on the next miss. A keypair change does NOT
 *             flush: a flow's action is "to link L" and L's binding (send slot,
 *             endpoint) is updated in place, so a rekey costs no miss storm;
 *   read-back every POLL_INTERVAL_MS while traffic flows (backing off to 250 ms
 *             while nothing moves, poll-backoff.ts; no timer at all while no flow is
 *             installed: the addon's fast paths move nothing without a flow, so
 *             there is nothing to read back), and before a flush or a
 *             status/metrics read, the addon's per-flow and per-slot deltas are fed back to what
 *             would have seen each frame: port rx/tx counters, rule hit counters,
 *             MAC refresh (aging) of the flow's source, the VTTIF counter, and the
 *             link's noise counters and timers (keepalive, new-handshake, rekey).
 *
 * Link bindings come from the LinkManager (LinkOffload.bind) after every change
 * of endpoint, transport or keypairs: a UDP link to the addon's UDP socket and
 * the peer's endpoint (linkSet), a TCP link to its connection's native stream
 * (linkSetStream; only when the TCP transport runs on the addon's streams).
 *
 * It runs on a NativeOffload its caller made (addon.createOffload()), which the
 * caller closes after stop(): the tables are that object's, not the process's, so two switches
 * in one process each run their own FlowOffload on their own NativeOffload. One
 * FlowOffload per NativeOffload (port and link ids are its switch core's).
 */
import type { Clock } from '../clock.js';
import type { AttachedPort, Datapath, DatapathOffload } from '../datapath.js';
import { readMac, type Mac } from '../frame/mac.js';
import type { LinkOffload, LinkOffloadBinding } from '../link/link-manager.js';
import type { OffloadedTraffic } from '../link/noise/device.js';
import type { NativeUdpTransport } from '../link/transport/native-udp-transport.js';
import type { TcpStreamSource } from '../link/transport/tcp-transport.js';
import type { Logger } from '../log.js';
import type { NativeOffload, NativeOffloadCounters } from '../port/addon.js';
import type { RuleEntry } from '../rules/rule-table.js';
import { nativeSlotId } from './native-keypair-slots.js';
import { PollBackoff } from './poll-backoff.js';

export const POLL_INTERVAL_MS = 100;

export interface FlowOffloadOptions {
  /** The addon's tables this offload runs on (addon.createOffload()); the caller closes it after stop(). */
  native: NativeOffload;
  datapath: Datapath;
  clock: Clock;
  log: Logger;
  /** The links' UDP transport when it is the addon's (links are offloaded only then). */
  udp?: NativeUdpTransport;
  /** Where slot traffic goes (LinkManager.noteOffloadedTraffic); set once links exist. */
  onSlotTraffic?: (localIndex: number, traffic: OffloadedTraffic) => void;
}

/** Counters for `vswitch status --json` and /metrics. */
export interface OffloadStats extends NativeOffloadCounters {
  enabled: true;
  /** Flows the JS side knows (installed since the last flush). */
  installedFlows: number;
  /** Links bound to the fast path now. */
  boundLinks: number;
}

interface FlowRecord {
  readonly inPort: number;
  readonly outPort: number;
  readonly src: Mac;
  readonly dst: Mac;
  readonly rule: RuleEntry | undefined;
  /** Counted by VTTIF (a local VM sent it, or it reaches a local VM), as Datapath.countFrame decides. */
  readonly isCounted: boolean;
}

export class FlowOffload implements LinkOffload, DatapathOffload {
  /** NativeOffloads a FlowOffload runs on now: its port and link ids are one switch core's, so one at a time. */
  private static readonly inUse = new WeakSet<NativeOffload>();

  /**
   * Starts the offload over `datapath` on `options.native`, or returns undefined when that NativeOffload is closed or
   * another FlowOffload runs on it.
   */
  static start(options: FlowOffloadOptions): FlowOffload | undefined {
    const native = options.native;
    if (native === undefined || native.isClosed || FlowOffload.inUse.has(native)) return undefined;
    const offload = new FlowOffload({ ...options, native });
    FlowOffload.inUse.add(native);
    options.datapath.setOffload(offload);
    return offload;
  }

  onSlotTraffic: ((localIndex: number, traffic: OffloadedTraffic) => void) | undefined;
  /** The addon's tables this offload runs on (its keypair slots too: createNativeKeypairSlots(offload.native, …)). */
  readonly native: NativeOffload;
  private readonly flows = new Map<number, FlowRecord>();
  /** Port ids with a native input (TAP/capture handles, bound links) and with a native output. */
  private readonly nativeIn = new Set<number>();
  private readonly nativeOut = new Set<number>();
  /** Link name → port id it is bound under. */
  private readonly boundLinks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff = new PollBackoff(POLL_INTERVAL_MS);
  /** A read-back since the last tick found deltas (explicit reads count: they took the timer's work). */
  private sawTraffic = false;
  private isStopped = false;

  private udp: NativeUdpTransport | undefined;
  /** The links' TCP transport when its connections run on the addon's streams (TCP links are offloaded then). */
  private tcp: TcpStreamSource | undefined;
  private reportRateHz: (() => number | undefined) | undefined;
  private pollIntervalMs = POLL_INTERVAL_MS;
  private isUdpOn = false;

  private constructor(private readonly options: FlowOffloadOptions) {
    this.native = options.native;
    this.udp = options.udp;
    this.onSlotTraffic = options.onSlotTraffic;
    this.native.configure(options.datapath.core.maxFrameBytes);
    this.native.flush();
    options.datapath.core.onChange = () => this.flush();
    options.datapath.core.onRead = () => this.poll();
    options.datapath.core.rules.onRead = () => this.poll();
    // No timer yet: the table is empty, and the first install() arms it.
  }

  /**
   * Polls at least twice per VTTIF report (a matrix sent at the reporter's rate then lags by half a period at
   * most), and never less often than every POLL_INTERVAL_MS. The rate is read again at every poll: the Proxy
   * may change it at run time.
   */
  followReportRate(updateRateHz: () => number | undefined): void {
    this.reportRateHz = updateRateHz;
    this.reschedule();
  }

  /** The read-back interval now: the base while traffic flows, longer while idle (poll-backoff.ts). */
  get pollWaitMs(): number {
    return this.backoff.waitMs;
  }

  /** True while a read-back is scheduled (false while no flow is installed: asleep). */
  get isReadBackArmed(): boolean {
    return this.timer !== undefined;
  }

  private tick(): void {
    this.timer = undefined;
    this.poll();
    const hadTraffic = this.sawTraffic;
    this.sawTraffic = false;
    // Asleep without flows: every fast path needs a flow hit, so no counter can move until install() wakes it.
    if (this.flows.size === 0) return;
    const rateChanged = this.reschedule();
    this.arm(rateChanged ? this.backoff.waitMs : this.backoff.next(hadTraffic));
  }

  /** Follows the report rate; true when it changed (and a timer that was armed is re-armed at the new base). */
  private reschedule(): boolean {
    if (this.isStopped) return true;
    const hz = this.reportRateHz?.();
    const ms = hz === undefined || !(hz > 0) ? POLL_INTERVAL_MS : Math.max(10, Math.min(POLL_INTERVAL_MS, Math.floor(500 / hz)));
    if (ms === this.pollIntervalMs) return false;
    this.pollIntervalMs = ms;
    this.backoff.setBase(ms);
    if (this.timer !== undefined) this.arm(ms);
    return true;
  }

  private arm(ms: number): void {
    if (this.isStopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  /** The links' UDP transport (the addon's): links are offloaded only over it. */
  setLinkTransport(udp: NativeUdpTransport): void {
    if (udp === this.udp) return;
    if (this.isUdpOn) this.udp?.setOffload(undefined);
    this.isUdpOn = false;
    this.udp = udp;
  }

  /** The links' TCP transport, when its connections run on native streams: TCP links are offloaded too. */
  setStreamTransport(tcp: TcpStreamSource): void {
    this.tcp = tcp;
  }

  /** A port was attached: TAP and capture ports get their handle's offload id. */
  portAttached(attached: AttachedPort): void {
    if (this.isStopped || this.native.isClosed || attached.port.setOffloadPort === undefined) return;
    attached.port.setOffloadPort(attached.id, this.native);
    this.nativeIn.add(attached.id);
    this.nativeOut.add(attached.id);
  }

  /** A port went away or down: it leaves the fast path (the flush comes from the core's onChange or here). */
  portDetached(attached: AttachedPort): void {
    this.nativeIn.delete(attached.id);
    this.nativeOut.delete(attached.id);
    attached.port.setOffloadPort?.(-1);
    this.flush();
  }

  /** A port that failed came back (capture reopen): its new handle gets the id again. */
  portRecovered(attached: AttachedPort): void {
    this.portAttached(attached);
    this.flush();
  }

  /** After core.forward() decided 'output' to `outPort` for `frame` from `from` (Datapath.receive). */
  install(from: AttachedPort, outPort: number, frame: Uint8Array, rule: RuleEntry | undefined): void {
    if (!this.nativeIn.has(from.id) || !this.nativeOut.has(outPort)) return;
    const src = readMac(frame, 6);
    const dst = readMac(frame, 0);
    const id = this.native.flowInstall(from.id, src, dst, outPort);
    if (id < 0 || this.flows.has(id)) return;
    const datapath = this.options.datapath;
    const isCounted = from.port.kind !== 'link' || datapath.get(datapath.core.portName(outPort) ?? '')?.port.kind !== 'link';
    this.flows.set(id, { inPort: from.id, outPort, src, dst, rule, isCounted });
    // A new flow means traffic now: read it back at the base interval again, not after an idle back-off or a sleep.
    if (this.backoff.snapBack() || this.timer === undefined) this.arm(this.backoff.waitMs);
  }

  /** LinkOffload: the LinkManager's view of one link, mirrored into the addon. */
  bind(name: string, binding: LinkOffloadBinding | undefined): boolean {
    if (this.isStopped || this.native.isClosed) return true;
    const wasBound = this.boundLinks.get(name);
    const attached = this.options.datapath.get(name);
    if (binding?.endpoint.transport === 'tcp') return this.bindStream(name, binding, attached, wasBound);
    const handle = this.udp?.nativeHandle();
    const sockaddr = binding === undefined ? null : this.udp?.sockaddrOf(binding.endpoint) ?? null;
    if (binding === undefined || attached === undefined || handle === undefined || sockaddr === null) {
      if (wasBound !== undefined) this.unbind(name, wasBound);
      // A link not attached yet is retried at the LinkManager's next change.
      return binding === undefined || attached !== undefined;
    }
    if (wasBound !== undefined && wasBound !== attached.id) this.unbind(name, wasBound);
    // Only slots of this NativeOffload can be named to it (a keypair in another one's, or in JS, stays in JS).
    const tx = binding.txKeypair === undefined ? -1 : nativeSlotId(binding.txKeypair.slot, this.native) ?? -1;
    const rx = binding.rxKeypairs.map((k) => nativeSlotId(k.slot, this.native) ?? -1);
    if (!this.isUdpOn) {
      this.udp?.setOffload(this.native);
      this.isUdpOn = true;
    }
    this.native.linkSet(attached.id, handle, sockaddr, tx, rx[0] ?? -1, rx[1] ?? -1);
    this.boundLinks.set(name, attached.id);
    this.nativeIn.add(attached.id);
    this.nativeOut.add(attached.id);
    return true;
  }

  /**
   * A TCP link: bound to its connection's native stream. No stream (JS-only TCP, or not connected yet): unbound,
   * and false while one may still come, so the LinkManager asks again at its next change.
   */
  private bindStream(name: string, binding: LinkOffloadBinding, attached: AttachedPort | undefined, wasBound: number | undefined): boolean {
    const stream = this.tcp?.nativeStreamOf(binding.endpoint);
    if (attached === undefined || stream === undefined) {
      if (wasBound !== undefined) this.unbind(name, wasBound);
      return this.tcp === undefined;
    }
    if (wasBound !== undefined && wasBound !== attached.id) this.unbind(name, wasBound);
    const tx = binding.txKeypair === undefined ? -1 : nativeSlotId(binding.txKeypair.slot, this.native) ?? -1;
    const rx = binding.rxKeypairs.map((k) => nativeSlotId(k.slot, this.native) ?? -1);
    stream.setOffload(this.native);
    this.native.linkSetStream(attached.id, stream, tx, rx[0] ?? -1, rx[1] ?? -1);
    this.boundLinks.set(name, attached.id);
    this.nativeIn.add(attached.id);
    this.nativeOut.add(attached.id);
    return true;
  }

  /**
   * Feeds the addon's deltas back: port and rule counters, MAC refresh and VTTIF per flow; the link's noise
   * counters and timers per slot. Cheap when idle (two empty arrays).
   */
  poll(): void {
    if (this.isStopped) return;
    const { flows, slots } = this.native.poll();
    if (flows.length > 0 || slots.length > 0) this.sawTraffic = true;
    const nowMs = this.options.clock.now();
    const { core } = this.options.datapath;
    const counter = this.options.datapath.counter;
    for (let i = 0; i + 2 < flows.length; i += 3) {
      const record = this.flows.get(flows[i]!);
      if (record === undefined) continue;
      const packets = flows[i + 1]!;
      const bytes = flows[i + 2]!;
      core.countOffloaded(record.inPort, record.outPort, packets, bytes, record.rule);
      core.macTable.refresh(record.src, record.inPort, nowMs);
      // The addon counts wire frames and their bytes (a super-frame as the segments it stands for).
      if (counter !== undefined && record.isCounted) counter.count(record.src, record.dst, bytes, packets);
    }
    const onSlotTraffic = this.onSlotTraffic;
    if (onSlotTraffic === undefined) return;
    for (let i = 0; i + 7 < slots.length; i += 8) {
      const txAgoMs = slots[i + 4]!;
      const rxAgoMs = slots[i + 7]!;
      onSlotTraffic(slots[i + 1]!, {
        txPackets: slots[i + 2]!,
        txBytes: slots[i + 3]!,
        lastTxMs: txAgoMs < 0 ? nowMs : nowMs - txAgoMs,
        rxPackets: slots[i + 5]!,
        rxBytes: slots[i + 6]!,
        lastRxMs: rxAgoMs < 0 ? nowMs : nowMs - rxAgoMs,
      });
    }
  }

  /** Reads back what the flows carried, then empties the table (every decision is re-made on the next miss). */
  flush(): void {
    // Every flow the addon holds was installed through install(), which records it: none recorded, none there.
    if (this.isStopped || this.flows.size === 0) return;
    this.poll();
    this.native.flush();
    this.flows.clear();
  }

  stats(): OffloadStats {
    this.poll();
    return { enabled: true, ...this.native.counters(), installedFlows: this.flows.size, boundLinks: this.boundLinks.size };
  }

  stop(): void {
    if (this.isStopped) return;
    this.poll();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.native.flush();
    for (const [name, id] of [...this.boundLinks]) this.unbind(name, id);
    this.options.datapath.setOffload(undefined);
    for (const attached of this.options.datapath.ports()) attached.port.setOffloadPort?.(-1);
    if (this.isUdpOn) this.udp?.setOffload(undefined);
    FlowOffload.inUse.delete(this.native);
    this.options.datapath.core.onChange = undefined;
    this.options.datapath.core.onRead = undefined;
    this.options.datapath.core.rules.onRead = undefined;
    this.flows.clear();
    this.isStopped = true;
  }

  private unbind(name: string, id: number): void {
    this.poll();
    this.native.linkRemove(id);
    this.boundLinks.delete(name);
    this.nativeIn.delete(id);
    this.nativeOut.delete(id);
    this.flows.clear();
  }
}
