/**
 * VTTIF's service on the Proxy raises `topology-change` (a plugin-event) on the sink it is given, with the shape,
 * the number of edges and what was added and removed. Manual time: the test ingests and ticks.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { VttifService } from '../../../plugins/vttif/proxy-service.js';
import { TrafficCounter } from '../../../plugins/vttif/traffic-counter.js';
import { createVttif } from '../../../plugins/vttif/vttif.js';
import type { SwitchEvent } from '../../../switch/events.js';
import { createLogger } from '../../../switch/log.js';
import { RING4, vm } from './simulate.js';

describe('VttifService raises topology-change', () => {
  it('once per reported change, named as before, with its fields', () => {
    let nowMs = 0;
    const events: SwitchEvent[] = [];
    const service = new VttifService({
      vttif: createVttif({ updateRateHz: 10 }),
      clock: { ...systemClock, now: () => nowMs },
      wallClock: () => 1_700_000_000_000 + nowMs,
      log: createLogger({ write: () => {} }),
      events: { emit: (e) => events.push(e) },
    });
    const counters = new Map<string, TrafficCounter>();
    for (; nowMs <= 5000; nowMs += 100) {
      for (const [x, y] of RING4) {
        for (const host of [`h${x}`, `h${y}`]) {
          const counter = counters.get(host) ?? new TrafficCounter(host);
          counters.set(host, counter);
          counter.count(vm(x), vm(y), 1500);
          counter.count(vm(y), vm(x), 1500);
        }
      }
      for (const c of counters.values()) service.ingest(c.drain(nowMs));
      service.tick(nowMs);
    }
    expect(service.events().length).toBeGreaterThan(0);
    expect(events).toHaveLength(service.events().length);
    const last = service.events().at(-1)!;
    expect(events.at(-1)).toEqual({
      type: 'plugin-event',
      name: 'topology-change',
      level: 'info',
      message: expect.stringContaining(String(last.shape)),
      fields: {
        reason: last.reason,
        shape: last.shape,
        edges: last.edges.length,
        added: last.added.map((e) => `${e.a}-${e.b}`),
        removed: last.removed.map((e) => `${e.a}-${e.b}`),
      },
    });
    expect(last.shape).toBe('ring');
  });
});
