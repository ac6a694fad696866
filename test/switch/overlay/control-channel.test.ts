/**
 * The control channel on its own: requests, the answers that settle them, and what a peer may not do —
 * answer for another peer, guess a request id, or grow the channel's state with what it sends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { ControlChannel } from '../../../switch/overlay/control-channel.js';
import { createLogger } from '../../../switch/log.js';
import { parseControlMessage } from '../../../switch/overlay/control-messages.js';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const rule = { id: 1, src: 'any', dst: 'none', target: 'proxy', priority: 0, owner: 'star', hitFrames: 0, hitBytes: 0 };

const open: ControlChannel[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function channel(randomBytes?: (n: number) => Uint8Array) {
  const sent: { peer: string; message: Record<string, unknown> }[] = [];
  const lines: string[] = [];
  const c = new ControlChannel({
    send: (peer, body) => {
      sent.push({ peer, message: JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown> });
      return true;
    },
    log: createLogger({ write: (line) => lines.push(line), pretty: false }),
    ...(randomBytes ? { randomBytes } : {}),
  });
  open.push(c);
  return { c, sent, lines };
}

/** Whether the promise has settled, after the microtasks queued now have run. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(() => (s = 'resolved'), () => (s = 'rejected'));
  await new Promise((r) => setImmediate(r));
  return s;
}

describe('ControlChannel: who may answer a request', () => {
  it('does not let another peer answer, even with the right id; the peer asked still can', async () => {
    const { c, sent } = channel();
    const answer = c.request('h1', 'rules', [], 'test');
    const id = sent[0]!.message['id'];
    c.receive('h2', json({ t: 'res', id, ok: true, result: [{ ...rule, target: 'h2' }] }));
    expect(await state(answer)).toBe('pending');
    expect(c.malformed).toEqual({ 'res-wrong-peer': 1 });
    c.receive('h1', json({ t: 'res', id, ok: true, result: [rule] }));
    await expect(answer).resolves.toEqual([rule]);
  });

  it('drops and counts an answer to an id it never asked', async () => {
    const { c, sent } = channel();
    const answer = c.request('h1', 'rules', [], 'test');
    const id = sent[0]!.message['id'];
    c.receive('h1', json({ t: 'res', id: typeof id === 'string' ? `${id}0` : Number(id) + 1, ok: true, result: [] }));
    expect(await state(answer)).toBe('pending');
    expect(c.malformed).toEqual({ 'res-unknown-id': 1 });
  });

  it('draws request ids from the injected randomness (64 bits), not a counter', () => {
    const bytes = [Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)];
    let calls = 0;
    const { c, sent } = channel((n) => {
      expect(n).toBe(8);
      return bytes[calls++ % 2]!;
    });
    void c.request('h1', 'rules', [], 'test').catch(() => {});
    void c.request('h1', 'links', [], 'test').catch(() => {});
    expect(sent.map((s) => s.message['id'])).toEqual(['deadbeef01234567', '0102030405060708']);
  });

  it('refuses a result that is not the shape its op returns, at once, and counts it', async () => {
    const { c, sent } = channel();
    const answer = c.request('h1', 'links', [], 'test');
    c.receive('h1', json({ t: 'res', id: sent[0]!.message['id'], ok: true, result: [null] }));
    await expect(answer).rejects.toMatchObject({ code: 'host-invalid-answer' });
    expect(c.malformed).toEqual({ 'res-result-invalid': 1 });
  });

  it("keeps a host's error status only when a primitive error has it", async () => {
    const { c, sent } = channel();
    const notFound = c.request('h1', 'deleteRule', [9], 'test');
    c.receive('h1', json({ t: 'res', id: sent[0]!.message['id'], ok: false, error: { code: 'not-found', message: 'rule 9 does not exist', status: 404 } }));
    await expect(notFound).rejects.toMatchObject({ code: 'not-found', message: 'rule 9 does not exist', httpStatus: 404 });
    // A host must not make the Proxy's API answer 401 (or 429, ...) for it.
    for (const [i, status] of [[1, 401], [2, 429]] as const) {
      const spoofed = c.request('h1', 'deleteRule', [9], 'test');
      c.receive('h1', json({ t: 'res', id: sent[i]!.message['id'], ok: false, error: { code: 'unauthorized', message: 'log in again', status } }));
      await expect(spoofed).rejects.toMatchObject({ httpStatus: 502 });
    }
  });
});

describe('ControlChannel: answering', () => {
  it('cuts a long error message to what the other end accepts, so it still arrives as an error', async () => {
    const sent: Uint8Array[] = [];
    const host = new ControlChannel({
      send: (_peer, body) => (sent.push(body), true),
      log: createLogger({ write: () => {} }),
      onRequest: () => Promise.reject(Object.assign(new Error('x'.repeat(5000)), { code: 'invalid-input', field: 'src' })),
    });
    open.push(host);
    host.receive('proxy', json({ t: 'req', id: '00ff', op: 'addRule', args: [{}], actor: 'test' }));
    await new Promise((r) => setImmediate(r));
    const parsed = parseControlMessage(sent[0]!);
    expect(parsed).toMatchObject({ ok: true, message: { t: 'res', id: '00ff', ok: false, error: { code: 'invalid-input', field: 'src' } } });
  });
});

describe('ControlChannel: what a peer sends cannot grow its state', () => {
  it('counts malformed messages under a fixed set of reasons and logs them truncated', () => {
    const { c, lines } = channel();
    for (let i = 0; i < 200; i++) c.receive('h1', json({ t: `${'x'.repeat(50_000)}${i}` }));
    c.receive('h1', json({ t: 'report', name: 'h1', interfaces: [], links: [null], rules: [] }));
    expect(c.malformed).toEqual({ 'unknown-type': 200, 'report-invalid': 1 });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length).toBeLessThan(400);
  });
});

describe('ControlChannel: how much one peer may make it read', () => {
  function limited() {
    const clock = new ManualClock();
    const sent: Record<string, unknown>[] = [];
    const heard: string[] = [];
    const c = new ControlChannel({
      send: (_peer, body) => {
        sent.push(JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>);
        return true;
      },
      log: createLogger({ write: () => {}, pretty: false }),
      clock,
      rateLimit: { perSecond: 10, burst: 5 },
      onMessage: (peer) => heard.push(peer),
    });
    open.push(c);
    return { c, clock, sent, heard };
  }
  const hb = json({ t: 'hb', name: 'h1', role: 'host' });

  it('drops what a peer sends beyond its rate unread, counted rate-limited; another peer is not affected', async () => {
    const { c, clock, heard } = limited();
    for (let i = 0; i < 20; i++) c.receive('h1', hb);
    c.receive('h2', hb);
    expect(heard.filter((p) => p === 'h1')).toHaveLength(5);
    expect(heard.filter((p) => p === 'h2')).toHaveLength(1);
    expect(c.malformed).toEqual({ 'rate-limited': 15 });
    // Not even parsed: junk over the rate is counted as rate-limited, not as not-json.
    c.receive('h1', new TextEncoder().encode('{{{'));
    expect(c.malformed).toEqual({ 'rate-limited': 16 });
    await clock.advance(100);
    c.receive('h1', hb);
    expect(heard.filter((p) => p === 'h1')).toHaveLength(6);
  });

  it('reads the answers it asked for however many requests it made, even from a peer over its rate', async () => {
    const { c, sent } = limited();
    for (let i = 0; i < 20; i++) c.receive('h1', hb); // h1 has used up its bucket
    const answers = Array.from({ length: 30 }, () => c.request('h1', 'rules', [], 'test'));
    for (const m of sent) c.receive('h1', json({ t: 'res', id: m['id'], ok: true, result: [rule] }));
    await expect(Promise.all(answers)).resolves.toHaveLength(30);
    // Nothing is owed any more: the next message over the rate is dropped.
    c.receive('h1', hb);
    expect(c.malformed).toEqual({ 'rate-limited': 16 });
  });

  it('gives no answer credit for a request that timed out', async () => {
    const { c, clock } = limited();
    for (let i = 0; i < 5; i++) c.receive('h1', hb);
    const timedOut = expect(c.request('h1', 'rules', [], 'test')).rejects.toMatchObject({ code: 'host-timeout' });
    await clock.advance(5000); // times out (and the bucket refills: 5 s at 10 a second, at most 5)
    await timedOut;
    for (let i = 0; i < 6; i++) c.receive('h1', hb);
    expect(c.malformed).toEqual({ 'rate-limited': 1 });
  });
});
