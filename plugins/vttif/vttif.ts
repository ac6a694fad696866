/**
 * Vttif: the Proxy side, thin glue over the pure parts — Aggregator (window sums) → infer (normalize, prune,
 * shape) → TopologyDamper (when to report). No I/O and no timers: the edge feeds `ingest(update, nowMs)` as host
 * updates arrive and calls `tick(nowMs)` every `tickIntervalMs()` (the update interval); a returned
 * TopologyChange is what the adaptation (fast path) acts on. Bad updates are counted and dropped, never thrown.
 */
import type { Mac } from '../../switch/frame/mac.js';
import { TokenBucket, type TokenRate } from '../../switch/token-bucket.js';
import { Aggregator } from './aggregator.js';
import { damperTiming, TopologyDamper, type DamperReason } from './damper.js';
import { edgeKey, EMPTY_TOPOLOGY, normalize, topologyOf, type Edge, type Topology } from './infer.js';
import { isValidMatrixUpdate, type GlobalMatrix, type MatrixUpdate } from './matrix.js';
import {
  checkConfigTimeBoundMs,
  checkParameters,
  DEFAULT_THRESHOLD,
  DEFAULT_UPDATE_RATE_HZ,
  deriveSettleMs,
  MAX_UPDATE_RATE_HZ,
  deriveSmoothingMs,
  type VttifParameters,
} from './parameters.js';

export interface VttifOptions {
  readonly updateRateHz?: number;
  /** Omit to derive it from configTimeBoundMs (see parameters.ts). */
  readonly smoothingMs?: number;
  readonly threshold?: number;
  /** VNET's upper bound on configuration time; default 0 (→ 1 s smoothing). */
  readonly configTimeBoundMs?: number;
}

/** A partial update; `smoothingMs: null` goes back to deriving it from the config-time bound. */
export interface VttifParameterChange {
  readonly updateRateHz?: number;
  readonly smoothingMs?: number | null;
  readonly threshold?: number;
}

export interface VttifSettings extends VttifParameters {
  readonly isSmoothingDerived: boolean;
  readonly configTimeBoundMs: number;
  readonly settleMs: number;
}

export interface TopologyChange {
  readonly atMs: number;
  readonly reason: DamperReason;
  readonly topology: Topology;
  readonly added: readonly { a: Mac; b: Mac }[];
  readonly removed: readonly { a: Mac; b: Mac }[];
}

export type IngestResult = { readonly kind: 'accepted' } | { readonly kind: 'rejected'; readonly reason: 'invalid-update' | 'rate-limited' };

/**
 * Matrix updates taken per host: twice the highest rate a host may be set to report at (parameters.ts), so no
 * host's reporter is ever refused, whatever rate it was told; beyond, an update is dropped, counted
 * `updatesRateLimited`. This bounds what the window keeps (the aggregator holds every update of the smoothing
 * interval): at most 40 updates a second per host.
 */
export const MATRIX_UPDATES_PER_HOST: TokenRate = { perSecond: 2 * MAX_UPDATE_RATE_HZ, burst: 2 * MAX_UPDATE_RATE_HZ };

export interface VttifStats {
  readonly updatesAccepted: number;
  readonly updatesRejected: number;
  /** Valid updates dropped because their host sent more than MATRIX_UPDATES_PER_HOST. */
  readonly updatesRateLimited: number;
  readonly ticks: number;
  readonly changesReported: number;
  readonly isDamped: boolean;
  readonly windowUpdates: number;
}

export class Vttif {
  #parameters: VttifParameters;
  #isSmoothingDerived: boolean;
  #configTimeBoundMs: number;
  readonly #aggregator: Aggregator;
  readonly #damper: TopologyDamper;
  /** Every pair with its intensity at the last tick, unpruned: intensities for the reported edges. */
  #lastEdges = new Map<string, Edge>();
  #current: Topology = EMPTY_TOPOLOGY;
  #lastMatrix: GlobalMatrix;
  #updatesAccepted = 0;
  #updatesRejected = 0;
  #updatesRateLimited = 0;
  /** Per host (on the Proxy a link's name: as many as it has hosts). */
  readonly #updateBudgets = new Map<string, TokenBucket>();
  #ticks = 0;

  constructor(options: VttifOptions = {}) {
    this.#configTimeBoundMs = checkConfigTimeBoundMs(options.configTimeBoundMs ?? 0);
    this.#isSmoothingDerived = options.smoothingMs === undefined;
    this.#parameters = checkParameters({
      updateRateHz: options.updateRateHz ?? DEFAULT_UPDATE_RATE_HZ,
      smoothingMs: options.smoothingMs ?? deriveSmoothingMs(this.#configTimeBoundMs),
      threshold: options.threshold ?? DEFAULT_THRESHOLD,
    });
    this.#aggregator = new Aggregator(this.#parameters.smoothingMs);
    this.#damper = new TopologyDamper(damperTiming(deriveSettleMs(this.#parameters)));
    this.#lastMatrix = { windowMs: this.#parameters.smoothingMs, pairs: [] };
  }

  settings(): VttifSettings {
    return {
      ...this.#parameters,
      isSmoothingDerived: this.#isSmoothingDerived,
      configTimeBoundMs: this.#configTimeBoundMs,
      settleMs: this.#damper.timing.settleMs,
    };
  }

  /** Run-time change (API). Checks the whole result first: on VttifParameterError nothing changed. */
  setParameters(change: VttifParameterChange): VttifSettings {
    const isSmoothingDerived = change.smoothingMs === null || (change.smoothingMs === undefined && this.#isSmoothingDerived);
    const next = checkParameters({
      updateRateHz: change.updateRateHz ?? this.#parameters.updateRateHz,
      smoothingMs: isSmoothingDerived
        ? deriveSmoothingMs(this.#configTimeBoundMs)
        : (change.smoothingMs ?? this.#parameters.smoothingMs),
      threshold: change.threshold ?? this.#parameters.threshold,
    });
    this.#apply(next, isSmoothingDerived);
    return this.settings();
  }

  /** From VNET's "set an upper bound on configuration time" primitive; re-derives a derived smoothing interval. */
  setConfigTimeBound(configTimeBoundMs: number): VttifSettings {
    this.#configTimeBoundMs = checkConfigTimeBoundMs(configTimeBoundMs);
    if (this.#isSmoothingDerived) {
      this.#apply({ ...this.#parameters, smoothingMs: deriveSmoothingMs(configTimeBoundMs) }, true);
    }
    return this.settings();
  }

  /** How often the edge should call tick(): the update interval. */
  tickIntervalMs(): number {
    return 1000 / this.#parameters.updateRateHz;
  }

  ingest(update: MatrixUpdate, nowMs: number): IngestResult {
    if (!isValidMatrixUpdate(update)) {
      this.#updatesRejected++;
      return { kind: 'rejected', reason: 'invalid-update' };
    }
    let budget = this.#updateBudgets.get(update.host);
    if (!budget) this.#updateBudgets.set(update.host, (budget = new TokenBucket(MATRIX_UPDATES_PER_HOST)));
    if (!budget.take(nowMs)) {
      this.#updatesRateLimited++;
      return { kind: 'rejected', reason: 'rate-limited' };
    }
    this.#aggregator.ingest(update.host, update.entries, nowMs);
    this.#updatesAccepted++;
    return { kind: 'accepted' };
  }

  tick(nowMs: number): TopologyChange | undefined {
    this.#ticks++;
    this.#lastMatrix = this.#aggregator.matrix(nowMs);
    const edges = normalize(this.#lastMatrix);
    this.#lastEdges = new Map(edges.map((edge) => [edgeKey(edge), edge]));
    const kept = new Set(edges.filter((e) => e.intensity >= this.#parameters.threshold).map(edgeKey));
    const before = this.#current;
    const change = this.#damper.observe(kept, nowMs);
    this.#current = this.#topologyFor(this.#damper.reported, before);
    if (change === undefined) return undefined;
    const beforeKeys = new Set(before.edges.map(edgeKey));
    const afterKeys = new Set(this.#current.edges.map(edgeKey));
    return {
      atMs: nowMs,
      reason: change.reason,
      topology: this.#current,
      added: this.#current.edges.filter((e) => !beforeKeys.has(edgeKey(e))).map(({ a, b }) => ({ a, b })),
      removed: before.edges.filter((e) => !afterKeys.has(edgeKey(e))).map(({ a, b }) => ({ a, b })),
    };
  }

  /** The last reported topology, with intensities as of the last tick (an edge idle now shows 0). */
  current(): Topology {
    return this.#current;
  }

  /** The global matrix as of the last tick, or as of nowMs when given. */
  matrix(nowMs?: number): GlobalMatrix {
    return nowMs === undefined ? this.#lastMatrix : this.#aggregator.matrix(nowMs);
  }

  /** The hosts whose updates in the window count each pair (Aggregator.reporters). */
  reporters(nowMs: number): Map<string, string[]> {
    return this.#aggregator.reporters(nowMs);
  }

  stats(): VttifStats {
    return {
      updatesAccepted: this.#updatesAccepted,
      updatesRejected: this.#updatesRejected,
      updatesRateLimited: this.#updatesRateLimited,
      ticks: this.#ticks,
      changesReported: this.#damper.changesReported,
      isDamped: this.#damper.isDamped,
      windowUpdates: this.#aggregator.windowUpdates,
    };
  }

  #apply(parameters: VttifParameters, isSmoothingDerived: boolean): void {
    this.#parameters = parameters;
    this.#isSmoothingDerived = isSmoothingDerived;
    this.#aggregator.setSmoothingMs(parameters.smoothingMs);
    this.#damper.setTiming(damperTiming(deriveSettleMs(parameters)));
  }

  #topologyFor(keys: ReadonlySet<string>, previous: Topology): Topology {
    const edges: Edge[] = [];
    const previousByKey = new Map(previous.edges.map((e) => [edgeKey(e), e]));
    for (const key of keys) {
      const live = this.#lastEdges.get(key);
      if (live !== undefined) edges.push(live);
      else {
        const known = previousByKey.get(key) ?? parseEdgeKey(key);
        edges.push({ a: known.a, b: known.b, intensity: 0, bytes: 0 });
      }
    }
    return topologyOf(edges);
  }
}

function parseEdgeKey(key: string): { a: Mac; b: Mac } {
  const [a, b] = key.split('-');
  return { a: Number(a), b: Number(b) };
}

export function createVttif(options: VttifOptions = {}): Vttif {
  return new Vttif(options);
}
