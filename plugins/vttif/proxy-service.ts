/**
 * VttifService: the Proxy side's edge glue around Vttif (vttif.ts, pure). It
 *   - ingests the hosts' matrix updates as they arrive (by arrival time on the Proxy's clock);
 *   - ticks Vttif every tickIntervalMs() (one timer, re-armed each time, so a rate change applies at once);
 *   - on a reported change: logs it, keeps the last `maxEvents`, and calls every subscriber (the API's SSE);
 *   - applies run-time parameter changes, and tells the hosts a new update rate through `onUpdateRate`;
 *   - follows the Proxy's upper bound on configuration time (setConfigTimeBound), which a derived smoothing
 *     interval is computed from. The Proxy's own bound is the one used: VNET changes are made from the Proxy,
 *     through its primitives, so its bound is what an adaptation must wait for. A host's bound (set on that host)
 *     only governs that host's local changes and is not consulted.
 * Views are JSON-ready (MACs in colon form, wall-clock times as ISO strings).
 */
import type { Timer, TimerClock } from '../../switch/clock.js';
import { pluginEvent, type EventSink } from '../../switch/events.js';
import { formatMac, type Mac } from '../../switch/frame/mac.js';
import type { Logger } from '../../switch/log.js';
import { pairKey } from './aggregator.js';
import { topologyToJson, type TopologyJson } from './infer.js';
import type { MatrixUpdate } from './matrix.js';
import type { IngestResult, TopologyChange, Vttif, VttifParameterChange, VttifSettings, VttifStats } from './vttif.js';

export interface AppTopologyView extends TopologyJson {
  /** When this topology was reported (wall clock, ISO); null before the first report. */
  detectedAt: string | null;
  settings: VttifSettings;
}

export interface TopologyEventView extends AppTopologyView {
  reason: TopologyChange['reason'] | 'current';
  added: { a: string; b: string }[];
  removed: { a: string; b: string }[];
}

export interface MatrixView {
  windowMs: number;
  /** `hosts`: whose reports in the window the counts come from (a moved VM shows its new host). */
  pairs: { a: string; b: string; bytes: number; frames: number; hosts: string[] }[];
  stats: VttifStats;
}

export interface VttifServiceOptions {
  readonly vttif: Vttif;
  readonly clock: TimerClock;
  readonly wallClock: () => number;
  readonly log: Logger;
  /** Where `topology-change` is raised (switch/events.ts); absent: nowhere. */
  readonly events?: EventSink;
  /** The update rate changed (API): tell the hosts (and the Proxy's own reporter). */
  onUpdateRate?(updateRateHz: number): void;
  readonly maxEvents?: number;
}

export type TopologyListener = (event: TopologyEventView) => void;

const DEFAULT_MAX_EVENTS = 100;

export class VttifService {
  readonly vttif: Vttif;
  #timer: Timer | undefined;
  #detectedAtWallMs: number | undefined;
  readonly #events: TopologyEventView[] = [];
  readonly #listeners = new Set<TopologyListener>();

  constructor(private readonly options: VttifServiceOptions) {
    this.vttif = options.vttif;
  }

  /** Whether inference runs (false after pause() or stop()). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Stops inference ticks, keeps subscribers (the plugin registry's "disable"). */
  pause(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  resume(): void {
    if (this.#timer === undefined) this.start();
  }

  start(): void {
    const run = (): void => {
      this.tick(this.options.clock.now());
      this.#timer = this.options.clock.after(this.vttif.tickIntervalMs(), run);
    };
    this.#timer = this.options.clock.after(this.vttif.tickIntervalMs(), run);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#listeners.clear();
  }

  ingest(update: MatrixUpdate): IngestResult {
    return this.vttif.ingest(update, this.options.clock.now());
  }

  /** One inference step; the timer calls it, tests may too. */
  tick(nowMs: number): TopologyChange | undefined {
    const change = this.vttif.tick(nowMs);
    if (change === undefined) return undefined;
    this.#detectedAtWallMs = this.options.wallClock();
    const event: TopologyEventView = {
      ...this.topology(),
      reason: change.reason,
      added: change.added.map(pairJson),
      removed: change.removed.map(pairJson),
    };
    const fields = {
      reason: change.reason,
      shape: event.shape,
      edges: event.edges.length,
      added: event.added.map((e) => `${e.a}-${e.b}`),
      removed: event.removed.map((e) => `${e.a}-${e.b}`),
    };
    this.options.log.info('vttif: topology change', fields);
    this.options.events?.emit(pluginEvent('topology-change', 'info', `application topology: ${event.shape ?? 'no shape'}, ${fields.edges} edges (${change.reason})`, fields));
    this.#events.push(event);
    if (this.#events.length > (this.options.maxEvents ?? DEFAULT_MAX_EVENTS)) this.#events.shift();
    for (const listener of this.#listeners) listener(event);
    return change;
  }

  topology(): AppTopologyView {
    const detectedAt = this.#detectedAtWallMs === undefined ? null : new Date(this.#detectedAtWallMs).toISOString();
    return { ...topologyToJson(this.vttif.current()), detectedAt, settings: this.vttif.settings() };
  }

  /** The topology now, as the first event of a stream. */
  currentEvent(): TopologyEventView {
    return { ...this.topology(), reason: 'current', added: [], removed: [] };
  }

  matrix(): MatrixView {
    const nowMs = this.options.clock.now();
    const matrix = this.vttif.matrix(nowMs);
    const reporters = this.vttif.reporters(nowMs);
    return {
      windowMs: matrix.windowMs,
      pairs: matrix.pairs.map((p) => ({ a: formatMac(p.a), b: formatMac(p.b), bytes: p.bytes, frames: p.frames, hosts: reporters.get(pairKey(p.a, p.b)) ?? [] })),
      stats: this.vttif.stats(),
    };
  }

  settings(): VttifSettings {
    return this.vttif.settings();
  }

  /** Throws VttifParameterError (nothing changed) for a value out of range. */
  setParameters(change: VttifParameterChange): VttifSettings {
    const before = this.vttif.settings().updateRateHz;
    const after = this.vttif.setParameters(change);
    this.options.log.info('vttif: parameters set', { ...after });
    if (after.updateRateHz !== before) this.options.onUpdateRate?.(after.updateRateHz);
    return after;
  }

  setConfigTimeBound(configTimeBoundMs: number): VttifSettings {
    return this.vttif.setConfigTimeBound(configTimeBoundMs);
  }

  /** The last reported changes, oldest first. */
  events(): readonly TopologyEventView[] {
    return this.#events;
  }

  subscribe(listener: TopologyListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function pairJson(pair: { a: Mac; b: Mac }): { a: string; b: string } {
  return { a: formatMac(pair.a), b: formatMac(pair.b) };
}
