/**
 * A synthetic application for VTTIF tests: at each update interval every host's TrafficCounter counts the frames
 * its VMs exchanged under the topology active at that time; the Proxy ingests the drained updates and ticks.
 * Manual time only (the loop's own clock).
 */
import type { Mac } from '../../../switch/frame/mac.js';
import { TrafficCounter } from '../../../plugins/vttif/traffic-counter.js';
import type { TopologyChange, Vttif } from '../../../plugins/vttif/vttif.js';

export const vm = (n: number): Mac => 0x02_00_c6_13_00_00 + n;

export type PairList = readonly (readonly [number, number])[];

export const RING4: PairList = [[0, 1], [1, 2], [2, 3], [3, 0]];
export const CROSS4: PairList = [[0, 2], [1, 3]];

export interface SimulationOptions {
  readonly vttif: Vttif;
  readonly durationMs: number;
  /** Which pairs talk at time t (ms since start). */
  readonly topologyAt: (tMs: number) => PairList;
  /** Bytes each direction of each pair per update interval. */
  readonly bytesPerInterval?: number;
  /** VM n lives on host `hostOf(n)`; default each VM its own host (so every frame is seen twice). */
  readonly hostOf?: (n: number) => string;
  /** Called at each step before the Proxy ticks (e.g. to change parameters at run time). */
  readonly beforeTick?: (tMs: number) => void;
}

export function simulate(options: SimulationOptions): TopologyChange[] {
  const { vttif, durationMs, topologyAt } = options;
  const hostOf = options.hostOf ?? ((n: number) => `h${n}`);
  const bytes = options.bytesPerInterval ?? 15_000;
  const counters = new Map<string, TrafficCounter>();
  const counter = (host: string): TrafficCounter => {
    let c = counters.get(host);
    if (!c) counters.set(host, (c = new TrafficCounter(host)));
    return c;
  };
  const changes: TopologyChange[] = [];
  const stepMs = vttif.tickIntervalMs();
  for (let t = 0; t <= durationMs; t += stepMs) {
    for (const [x, y] of topologyAt(t)) {
      for (const [src, dst] of [[x, y], [y, x]] as const) {
        // The sender's host counts it sent, the receiver's host counts it received (once if the same host).
        const hosts = new Set([hostOf(src), hostOf(dst)]);
        for (const host of hosts) for (let f = 0; f < 10; f++) counter(host).count(vm(src), vm(dst), bytes / 10);
      }
    }
    for (const c of counters.values()) vttif.ingest(c.drain(t), t);
    options.beforeTick?.(t);
    const change = vttif.tick(t);
    if (change) changes.push(change);
  }
  return changes;
}

/** Alternates between two topologies, each held for halfPeriodMs. */
export const alternating =
  (first: PairList, second: PairList, halfPeriodMs: number) =>
  (tMs: number): PairList =>
    Math.floor(tMs / halfPeriodMs) % 2 === 0 ? first : second;
