/** HttpPolicyEntry on a hand-driven clock: lease, disabled policies, webhook heartbeats and backoff. */
import { systemClock } from '../../../switch/clock.js';
import { describe, expect, it } from 'vitest';
import { HttpPolicyEntry, type WebhookPoster } from '../../../plugins/host/http-policy.js';
import { createLogger } from '../../../switch/log.js';

function entry(opts: { delivery?: 'sse' | 'webhook'; post?: WebhookPoster; enabled?: boolean } = {}) {
  const clock = { ...systemClock, ms: 0, now() { return this.ms; } };
  const policy = new HttpPolicyEntry({
    registration: { name: 'p', events: ['host'], leaseSeconds: 30, ...(opts.delivery === 'webhook' ? { delivery: { type: 'webhook' as const, url: 'http://127.0.0.1:9/x' } } : {}) },
    actor: 'policy:p',
    token: 't',
    registeredBy: 'local',
    clock,
    wallClock: () => 0,
    log: createLogger({ write: () => {} }),
    ...(opts.post ? { post: opts.post } : {}),
    ...(opts.enabled === undefined ? {} : { enabled: opts.enabled }),
  });
  return { policy, clock };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('HttpPolicyEntry', () => {
  it('expires after its lease with no sign of life; a request renews it; an open stream holds it', () => {
    const { policy, clock } = entry();
    clock.ms = 29_000;
    expect(policy.leaseExpired(clock.ms)).toBe(false);
    policy.admit();
    clock.ms = 58_000;
    expect(policy.leaseExpired(clock.ms)).toBe(false);
    const stream = policy.openStream([]);
    clock.ms = 200_000;
    expect(policy.leaseExpired(clock.ms)).toBe(false);
    stream.close();
    clock.ms = 231_000;
    expect(policy.leaseExpired(clock.ms)).toBe(true);
  });

  it('does not expire while disabled, and gets a fresh lease when enabled again', async () => {
    const { policy, clock } = entry();
    await policy.setEnabled(false);
    clock.ms = 1_000_000;
    expect(policy.leaseExpired(clock.ms)).toBe(false);
    await policy.setEnabled(true);
    clock.ms += 29_000;
    expect(policy.leaseExpired(clock.ms)).toBe(false);
    expect(entry({ enabled: false }).policy.state).toBe('disabled');
  });

  it('webhook: waits 0.5 s before the first delivery, backs off on failure, heartbeats on a quiet overlay', async () => {
    const posts: string[] = [];
    let answer = 500;
    const { policy, clock } = entry({ delivery: 'webhook', post: async (_url, body) => (posts.push(body), answer) });
    policy.deliver({ seq: 1, at: 'x', type: 'host', host: { name: 'h1', change: 'joined' } });
    await settle();
    expect(posts).toEqual([]); // too early: the policy may not have its token yet
    clock.ms = 600;
    policy.tick();
    await settle();
    expect(posts).toHaveLength(1);
    expect(policy.view()).toMatchObject({ state: 'waiting', lastError: 'webhook answered HTTP 500', counters: { errors: 1 } });
    clock.ms = 1000; // backoff 1 s from 600
    policy.tick();
    await settle();
    expect(posts).toHaveLength(1);
    answer = 204;
    clock.ms = 1700;
    policy.tick();
    await settle();
    expect(posts).toHaveLength(2);
    expect(JSON.parse(posts[1]!).events).toHaveLength(1);
    expect(policy.state).toBe('running');
    clock.ms = 1700 + 10_001; // lease/3 of quiet
    policy.tick();
    await settle();
    expect(JSON.parse(posts[2]!)).toEqual({ events: [] });
    expect(policy.leaseExpired(clock.ms + 29_000)).toBe(false);
  });
});
