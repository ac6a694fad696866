/**
 * The datapath joins Ports (I/O edges) to the SwitchCore (pure decisions).
 *
 * Per batch read from one port:
 *   1. each frame goes through `core.forward` (validate, learn, rules, lookup);
 *   2. the frame is appended to the output batch of every port it must leave by;
 *   3. after the whole batch, each port with pending frames gets ONE `send` call.
 * Frames are views into the reading port's buffer, valid only during its sink
 * call: step 3 runs inside that call, so no frame is copied. Output batches are
 * arrays reused across batches, so the steady state allocates nothing here.
 *
 * Super-frames (a TAP with offloads, switch/frame/vnet-header.ts). A port that reads virtio-net headers hands them
 * with its batch; a frame whose header says it is a super-frame is decided once (core.forward with its WireShape:
 * counters and the size check are its wire frames'), then:
 *   - to a port that takes headers (`takesVnetHeaders`: TAPs, capture ports) it goes as it is, its header queued
 *     beside it (the port, in the addon, passes it on or cuts the super-frame itself);
 *   - to any other port (a link, a memory twin) it is cut into wire frames here, by the injected FrameSegmenter,
 *     and those are queued instead (without one, it is not sent there).
 * A frame with only a checksum left to complete goes the same two ways (one frame, its checksum completed). Tx
 * counters and VTTIF count wire frames and bytes, as rx does.
 */
import type { Clock } from './clock.js';
import { NO_EVENTS, type EventSink } from './events.js';
import type { FrameSegmenter } from './frame/frame-segmenter.js';
import { readMac, type Mac } from './frame/mac.js';
import { VNET_HEADER_BYTES, hasPendingWork, isSuperFrame, largestWireFrame, wireBytes, wireFrames } from './frame/vnet-header.js';
import type { Logger } from './log.js';
import type { Decision } from './pipeline/decision.js';
import { SwitchCore, type WireShape } from './pipeline/forward.js';
import type { Port } from './port/port.js';
import type { RuleEntry } from './rules/rule-table.js';

export interface AttachedPort {
  readonly id: number;
  readonly port: Port;
  /** Frames waiting for this port's next send, reused between batches. */
  readonly pending: Uint8Array[];
  /** Wire frames and bytes queued in `pending`, for the tx counters. */
  pendingFrames: number;
  pendingBytes: number;
  /** Virtio-net headers of `pending` (10 bytes each), when one of them has any: for a port that takes them. */
  pendingVnet: Uint8Array | undefined;
  hasPendingVnet: boolean;
  state: 'up' | 'down';
  lastError?: string;
}

export interface DatapathOptions {
  core: SwitchCore;
  clock: Clock;
  log: Logger;
  /** Called once when a port's device fails; the datapath has already detached its frames. */
  onPortError?: (name: string, err: Error) => void;
  /** Where port-down and port-up are raised (switch/events.ts); absent: nowhere. */
  events?: EventSink;
  /** Cuts super-frames for ports that take no virtio-net headers (the addon's); absent: they are not sent there. */
  segmenter?: FrameSegmenter;
}

/** VTTIF's per-(src, dst) counter (plugins/vttif TrafficCounter fits); must not throw. */
export interface FrameCounter {
  /** `frames` wire frames (default 1) of `bytes` in all. */
  count(src: Mac, dst: Mac, bytes: number, frames?: number): void;
}

/** The flow offload as the datapath sees it (switch/offload/flow-offload.ts). */
export interface DatapathOffload {
  /** After forward() said 'output' for `frame` (the core's lastRule decided it, if a rule did). */
  install(from: AttachedPort, outPort: number, frame: Uint8Array, rule: RuleEntry | undefined): void;
  portAttached(attached: AttachedPort): void;
  portDetached(attached: AttachedPort): void;
  portRecovered(attached: AttachedPort): void;
}

export class Datapath {
  readonly core: SwitchCore;
  /** When set, frames local VMs send or receive are counted (VTTIF); unset = not a single extra instruction per frame. */
  counter: FrameCounter | undefined;
  /** When set, 'output' decisions are installed as native flows (switch/offload/); unset = nothing extra per frame. */
  private offload: DatapathOffload | undefined;
  private readonly byId = new Map<number, AttachedPort>();
  private readonly byName = new Map<string, AttachedPort>();
  private readonly dirty: AttachedPort[] = [];

  private readonly events: EventSink;

  constructor(private readonly options: DatapathOptions) {
    this.core = options.core;
    this.events = options.events ?? NO_EVENTS;
  }

  /** Turns the flow offload on (every attached port is offered to it) or off. */
  setOffload(offload: DatapathOffload | undefined): void {
    this.offload = offload;
    if (offload !== undefined) for (const attached of this.byId.values()) if (attached.state === 'up') offload.portAttached(attached);
  }

  attach(port: Port, opts: { floods: boolean }): AttachedPort {
    if (this.byName.has(port.name)) throw new Error(`port ${port.name} is already attached`);
    const id = this.core.addPort({ name: port.name, floods: opts.floods });
    const attached: AttachedPort = {
      id,
      port,
      pending: [],
      pendingFrames: 0,
      pendingBytes: 0,
      pendingVnet: undefined,
      hasPendingVnet: false,
      state: 'up',
    };
    this.byId.set(id, attached);
    this.byName.set(port.name, attached);
    port.start({
      frames: (frames, vnet) => this.receive(attached, frames, vnet),
      error: (err) => this.fail(attached, err),
    });
    if (port.pendingError) this.fail(attached, port.pendingError);
    else this.offload?.portAttached(attached);
    return attached;
  }

  detach(name: string): boolean {
    const attached = this.byName.get(name);
    if (!attached) return false;
    this.byName.delete(name);
    this.byId.delete(attached.id);
    this.offload?.portDetached(attached);
    this.core.removePort(attached.id);
    attached.port.close();
    return true;
  }

  ports(): readonly AttachedPort[] {
    return [...this.byId.values()];
  }

  get(name: string): AttachedPort | undefined {
    return this.byName.get(name);
  }

  /**
   * Tries once to bring back every failed port that can reopen; called by the
   * daemon's housekeeping (once a second), never on the data path.
   */
  recover(): void {
    for (const attached of this.byId.values()) {
      if (attached.state !== 'down' || !attached.port.reopen) continue;
      try {
        attached.port.reopen();
      } catch (err) {
        const message = (err as Error).message;
        if (message !== attached.lastError) this.options.log.info('port still down', { port: attached.port.name, err });
        attached.lastError = message;
        continue;
      }
      attached.state = 'up';
      delete attached.lastError;
      this.offload?.portRecovered(attached);
      this.options.log.info('port recovered', { port: attached.port.name });
      this.events.emit({ type: 'port-up', port: attached.port.name });
    }
  }

  closeAll(): void {
    for (const name of [...this.byName.keys()]) this.detach(name);
  }

  /** Switch one batch of frames that arrived on `from` (with their virtio-net headers when it reads them). */
  receive(from: AttachedPort, frames: readonly Uint8Array[], vnet?: Uint8Array): void {
    const core = this.core;
    const nowMs = this.options.clock.now();
    const counter = this.counter;
    const offload = this.offload;
    const wire = this.wire;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      const at = i * VNET_HEADER_BYTES;
      const headers = vnet !== undefined && hasPendingWork(vnet, at) ? vnet : undefined;
      let shape: WireShape | undefined;
      if (headers !== undefined && isSuperFrame(headers, at)) {
        shape = wire;
        wire.frames = wireFrames(headers, at, frame.length);
        wire.bytes = wireBytes(headers, at, frame.length);
        wire.largestBytes = largestWireFrame(headers, at, frame.length);
      }
      const decision = core.forward(frame, from.id, nowMs, shape);
      if (decision.kind === 'output') {
        const target = this.byId.get(decision.port);
        if (target === undefined || target.state !== 'up') {
          // The exit the core chose is down (a rule toward a failed port) or gone: counted, never silently lost.
          core.countDrop(from.id, target === undefined ? 'out-port-gone' : 'out-port-down', shape?.frames ?? 1);
          continue;
        }
        if (counter !== undefined) this.countFrame(counter, from, decision, frame, shape);
        this.queue(decision.port, frame, headers, at, shape);
        if (offload !== undefined) offload.install(from, decision.port, frame, core.lastRule);
      } else if (decision.kind === 'flood') {
        if (counter !== undefined) this.countFrame(counter, from, decision, frame, shape);
        const targets = decision.ports;
        for (let t = 0; t < targets.length; t++) this.queue(targets[t]!, frame, headers, at, shape);
      }
    }
    this.flush();
  }

  private readonly wire: WireShape = { frames: 1, bytes: 0, largestBytes: 0 };

  /** VTTIF: a frame from a local port (a VM sent it), or from a link to a local port (a VM receives it). */
  private countFrame(counter: FrameCounter, from: AttachedPort, decision: Decision, frame: Uint8Array, shape: WireShape | undefined): void {
    if (from.port.kind === 'link' && !this.reachesLocalPort(decision)) return;
    if (shape === undefined) counter.count(readMac(frame, 6), readMac(frame, 0), frame.length);
    else counter.count(readMac(frame, 6), readMac(frame, 0), shape.bytes, shape.frames);
  }

  private reachesLocalPort(decision: Decision): boolean {
    if (decision.kind === 'output') return this.isLocalPort(decision.port);
    if (decision.kind !== 'flood') return false;
    for (let t = 0; t < decision.ports.length; t++) if (this.isLocalPort(decision.ports[t]!)) return true;
    return false;
  }

  private isLocalPort(id: number): boolean {
    const kind = this.byId.get(id)?.port.kind;
    return kind !== undefined && kind !== 'link';
  }

  /** `headers`: where the frame's header is (vnet[at]) when it has work pending; else undefined. */
  private queue(portId: number, frame: Uint8Array, headers: Uint8Array | undefined, at: number, shape: WireShape | undefined): void {
    const target = this.byId.get(portId);
    if (!target || target.state !== 'up') return;
    if (headers === undefined) {
      this.push(target, frame, undefined, 0);
      target.pendingFrames++;
      target.pendingBytes += frame.length;
    } else if (target.port.takesVnetHeaders === true) {
      this.push(target, frame, headers, at);
      target.pendingFrames += shape === undefined ? 1 : shape.frames;
      target.pendingBytes += shape === undefined ? frame.length : shape.bytes;
    } else {
      const segments = this.options.segmenter?.segment(headers, at, frame) ?? [];
      for (let s = 0; s < segments.length; s++) {
        this.push(target, segments[s]!, undefined, 0);
        target.pendingBytes += segments[s]!.length;
      }
      target.pendingFrames += segments.length;
    }
  }

  /** Appends a frame to a port's batch, with its header (or a zero one, once the batch carries headers). */
  private push(target: AttachedPort, frame: Uint8Array, headers: Uint8Array | undefined, at: number): void {
    const index = target.pending.length;
    if (index === 0) this.dirty.push(target);
    target.pending.push(frame);
    if (headers === undefined && !target.hasPendingVnet) return;
    const end = (index + 1) * VNET_HEADER_BYTES;
    let vnet = target.pendingVnet;
    if (vnet === undefined || vnet.length < end) {
      const grown = new Uint8Array(Math.max(end, 2 * (vnet?.length ?? 32 * VNET_HEADER_BYTES)));
      if (vnet !== undefined && target.hasPendingVnet) grown.set(vnet.subarray(0, index * VNET_HEADER_BYTES));
      target.pendingVnet = vnet = grown;
    }
    if (!target.hasPendingVnet) {
      vnet.fill(0, 0, index * VNET_HEADER_BYTES); // the frames queued before it had nothing pending
      target.hasPendingVnet = true;
    }
    const to = index * VNET_HEADER_BYTES;
    if (headers === undefined) vnet.fill(0, to, end);
    else for (let b = 0; b < VNET_HEADER_BYTES; b++) vnet[to + b] = headers[at + b]!;
  }

  private flush(): void {
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const target = dirty[i]!;
      if (target.hasPendingVnet) target.port.send(target.pending, target.pendingVnet);
      else target.port.send(target.pending);
      this.core.countTx(target.id, target.pendingFrames, target.pendingBytes);
      target.pending.length = 0;
      target.pendingFrames = 0;
      target.pendingBytes = 0;
      target.hasPendingVnet = false;
    }
    dirty.length = 0;
    this.options.segmenter?.release();
  }

  private fail(attached: AttachedPort, err: Error): void {
    if (attached.state === 'down') return;
    attached.state = 'down';
    attached.lastError = err.message;
    this.offload?.portDetached(attached);
    // MACs behind a dead port would black-hole their traffic: forget them so frames flood until relearned.
    this.core.macTable.forgetPort(attached.id);
    this.options.log.warn('port down', { port: attached.port.name, err });
    this.events.emit({ type: 'port-down', port: attached.port.name, error: err.message });
    this.options.onPortError?.(attached.port.name, err);
  }
}
