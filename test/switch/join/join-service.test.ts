/**
 * The Proxy's handling of a join request, on its own: real token and host stores (saving to memory), and the
 * overlay as a small twin holding the Proxy's links in a map (the real one, daemon/join-overlay.ts over a daemon's
 * primitives, is exercised by test/daemon/join.test.ts). Time is a ManualClock; nothing sleeps.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { EventBus, type SwitchEvent } from '../../../switch/events.js';
import { JoinedHostStore, type JoinedHost } from '../../../switch/join/joined-hosts.js';
import { JoinService, type JoinOverlay } from '../../../switch/join/join-service.js';
import { JoinTokenStore } from '../../../switch/join/token-store.js';
import { createLogger } from '../../../switch/log.js';
import { JOIN_ATTEMPT_BURST } from '../../../switch/join/attempt-limiter.js';

const key = (n: number): string => Buffer.alloc(32, n).toString('base64');
const PROXY_KEY = key(1);

function setup(options: { failLink?: boolean } = {}) {
  const clock = new ManualClock();
  let wall = Date.UTC(2025, 0, 1);
  let seed = 5;
  const random = (n: number) => Uint8Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
  const savedHosts: JoinedHost[][] = [];
  const tokens = new JoinTokenStore({ wallClock: () => wall, randomBytes: random, persist: () => {} });
  const hosts = new JoinedHostStore({ persist: (list) => savedHosts.push([...list]) });
  // The Proxy's links and ports, by name → key.
  const links = new Map<string, string>([['h1', key(2)]]);
  const ports = new Set(['tap0']);
  const overlay: JoinOverlay = {
    proxyName: 'proxy',
    proxyPublicKey: PROXY_KEY,
    linkEndpoints: () => ({ endpoint: '198.18.1.1:51820', tcpEndpoint: '198.18.1.1:443' }),
    nameConflict: (name) => (links.has(name) ? `the Proxy has a link named ${name}` : ports.has(name) ? `the Proxy has a port named ${name}` : undefined),
    keyConflict: (k) => ([...links].find(([, v]) => v === k)?.[0] ? `the Proxy's link ${[...links].find(([, v]) => v === k)![0]} is to it` : undefined),
    addStarLink: async (host) => {
      if (options.failLink) throw new Error('link manager stopped');
      links.set(host.name, host.publicKey);
    },
    deleteStarLink: async (name) => void links.delete(name),
  };
  const events: SwitchEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const service = new JoinService({ tokens, hosts, overlay, clock, wallClock: () => wall, log: createLogger({ write: () => {} }), events: bus });
  const token = (input: { name?: string; expiresInS?: number } = {}) => {
    const { record, secret } = tokens.create(input, 'ops');
    return { id: record.id, secret: Buffer.from(secret).toString('base64url') };
  };
  const request = (t: { id: string; secret: string }, extra: Record<string, unknown> = {}) => ({ v: 1, token: t.id, secret: t.secret, publicKey: key(9), ...extra });
  return { service, tokens, hosts, links, savedHosts, events, token, request, clock, advanceWall: (ms: number) => void (wall += ms) };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'accepted';
}

describe('a join request on the Proxy', () => {
  it('adds the host: its star link, its record (saved), the token used; answers what its config needs', async () => {
    const s = setup();
    const t = s.token({ name: 'h9' });
    const answer = await s.service.join(s.request(t, { listenPort: 51820 }), '198.18.0.9');
    expect(answer).toEqual({ v: 1, name: 'h9', proxy: { name: 'proxy', publicKey: PROXY_KEY, endpoint: '198.18.1.1:51820', tcpEndpoint: '198.18.1.1:443' } });
    expect(s.links.get('h9')).toBe(key(9));
    expect(s.savedHosts.at(-1)).toEqual([expect.objectContaining({ name: 'h9', publicKey: key(9), endpoint: '198.18.0.9:51820', token: t.id })]);
    expect(s.tokens.list()[0]).toMatchObject({ state: 'used', usedBy: 'h9' });
    expect(s.events).toEqual([{ type: 'host-joined', host: 'h9', token: t.id, from: '198.18.0.9' }]);
    expect(s.service.joined).toBe(1);
  });

  it('names the host from the request when the token names none; else the name is required', async () => {
    const s = setup();
    expect((await s.service.join(s.request(s.token(), { name: 'h7' }), '198.18.0.7')).name).toBe('h7');
    expect(await refusal(s.service.join(s.request(s.token(), { publicKey: key(8) }), '198.18.0.8'))).toBe('join-invalid');
  });

  it('refuses each bad token with its own code, and counts the refusals by code', async () => {
    const s = setup();
    const used = s.token();
    await s.service.join(s.request(used, { name: 'h9' }), '198.18.0.9');
    expect(await refusal(s.service.join(s.request(used, { name: 'h10', publicKey: key(10) }), '198.18.0.10'))).toBe('join-token-used');
    const old = s.token({ expiresInS: 1 });
    s.advanceWall(1000);
    expect(await refusal(s.service.join(s.request(old, { name: 'h11' }), '198.18.0.11'))).toBe('join-token-expired');
    const revoked = s.token();
    s.tokens.revoke(revoked.id);
    expect(await refusal(s.service.join(s.request(revoked, { name: 'h12' }), '198.18.0.12'))).toBe('join-token-revoked');
    expect(await refusal(s.service.join(s.request({ id: revoked.id, secret: Buffer.alloc(32).toString('base64url') }, { name: 'h12' }), '198.18.0.12'))).toBe('join-token-unknown');
    expect(s.service.refused).toEqual({ 'join-token-used': 1, 'join-token-expired': 1, 'join-token-revoked': 1, 'join-token-unknown': 1 });
  });

  it('keeps a token for another name from being used (and does not spend it)', async () => {
    const s = setup();
    const t = s.token({ name: 'h9' });
    expect(await refusal(s.service.join(s.request(t, { name: 'h8' }), '198.18.0.9'))).toBe('join-name-mismatch');
    expect(s.tokens.list()[0]!.state).toBe('live');
  });

  it('refuses a taken name or key without spending the token: the host may try again', async () => {
    const s = setup();
    const t = s.token();
    for (const [extra, code] of [
      [{ name: 'proxy' }, 'join-name-taken'],
      [{ name: 'h1' }, 'join-name-taken'],
      [{ name: 'tap0' }, 'join-name-taken'],
      [{ name: 'h9', publicKey: key(2) }, 'join-key-taken'],
      [{ name: 'h9', publicKey: PROXY_KEY }, 'join-key-taken'],
    ] as const) {
      expect(await refusal(s.service.join(s.request(t, extra), '198.18.0.9')), JSON.stringify(extra)).toBe(code);
    }
    expect(s.tokens.list()[0]!.state).toBe('live');
    await s.service.join(s.request(t, { name: 'h9' }), '198.18.0.9');
    // Another token, the same name or key again.
    expect(await refusal(s.service.join(s.request(s.token(), { name: 'h9', publicKey: key(3) }), '198.18.0.3'))).toBe('join-name-taken');
    expect(await refusal(s.service.join(s.request(s.token(), { name: 'h3' }), '198.18.0.3'))).toBe('join-key-taken');
  });

  it('lets only one of two requests with the same token through, even at the same moment', async () => {
    const s = setup();
    const t = s.token();
    const results = await Promise.all([
      refusal(s.service.join(s.request(t, { name: 'h8', publicKey: key(8) }), '198.18.0.8')),
      refusal(s.service.join(s.request(t, { name: 'h9', publicKey: key(9) }), '198.18.0.9')),
    ]);
    expect(results.sort()).toEqual(['accepted', 'join-token-used']);
    expect(s.hosts.size).toBe(1);
  });

  it('forgets the host and gives the token back when the star link cannot be added', async () => {
    const s = setup({ failLink: true });
    const t = s.token();
    await expect(s.service.join(s.request(t, { name: 'h9' }), '198.18.0.9')).rejects.toThrow(/link manager stopped/);
    expect(s.hosts.size).toBe(0);
    expect(s.tokens.list()[0]!.state).toBe('live');
    expect(s.service.refused).toEqual({ internal: 1 });
  });

  it('admits a burst of attempts per address, then 429 with when to retry; the clock refills it', async () => {
    const s = setup();
    for (let i = 0; i < JOIN_ATTEMPT_BURST; i++) s.service.admit('198.18.0.66');
    expect(() => s.service.admit('198.18.0.66')).toThrow(expect.objectContaining({ code: 'join-rate-limited', retryAfterS: 6, httpStatus: 429 }));
    expect(() => s.service.admit('198.18.0.67')).not.toThrow();
    await s.clock.advance(6000);
    expect(() => s.service.admit('198.18.0.66')).not.toThrow();
    expect(s.service.refused['join-rate-limited']).toBe(1);
  });

  it('removes a joined host (saved, link deleted), and restores the saved ones', async () => {
    const s = setup();
    await s.service.join(s.request(s.token(), { name: 'h9' }), '198.18.0.9');
    s.links.delete('h9'); // as after a restart: the store has it, the links do not yet
    await s.service.restore();
    expect(s.links.get('h9')).toBe(key(9));
    await s.service.remove('h9', { name: 'ops' });
    expect(s.links.has('h9')).toBe(false);
    expect(s.savedHosts.at(-1)).toEqual([]);
    expect(s.events.at(-1)).toEqual({ type: 'host-removed', host: 'h9', by: 'ops' });
    await expect(s.service.remove('h9', { name: 'ops' })).rejects.toMatchObject({ code: 'not-found' });
  });
});
