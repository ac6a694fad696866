import { describe, expect, it } from 'vitest';
import { checkPrimitiveResult, controlExtensions, encodeControlMessage, parseControlMessage, type ControlExtension } from '../../../switch/overlay/control-messages.js';
import { linkStatus } from '../../support/link-status.js';

const counter: ControlExtension = {
  type: 'count',
  needs: 'n (integer)',
  decode: (f) => (Number.isInteger(f['n']) ? f['n'] : undefined),
  encode: (body) => ({ n: body }),
};
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('control messages of plugins (extensions)', () => {
  const extensions = controlExtensions([counter]);

  it('round-trips a plugin message through its extension, looking like any message on the wire', () => {
    const wire = encodeControlMessage({ t: 'plugin', type: 'count', body: 3 }, extensions);
    expect(JSON.parse(new TextDecoder().decode(wire))).toEqual({ t: 'count', n: 3 });
    expect(parseControlMessage(wire, extensions)).toEqual({ ok: true, message: { t: 'plugin', type: 'count', body: 3 } });
  });

  it('refuses what its decoder refuses, saying what it needs; unknown without the extension', () => {
    expect(parseControlMessage(json({ t: 'count', n: 1.5 }), extensions)).toEqual({ ok: false, reason: 'count-invalid', detail: 'malformed count: needs n (integer)' });
    expect(parseControlMessage(json({ t: 'count', n: 1 }))).toEqual({ ok: false, reason: 'unknown-type', detail: 'unknown message type "count"' });
    const throwing = controlExtensions([{ ...counter, decode: () => { throw new Error('x'); } }]);
    expect(parseControlMessage(json({ t: 'count', n: 1 }), throwing).ok).toBe(false);
  });

  it("never lets an extension take the switch's own types or another's", () => {
    expect(() => controlExtensions([{ ...counter, type: 'req' }])).toThrow(/taken/);
    expect(() => controlExtensions([counter, counter])).toThrow(/taken/);
    expect(parseControlMessage(json({ t: 'plugin', type: 'count', body: 1 }), extensions).ok).toBe(false);
  });
});

describe('the report message', () => {
  const report = (extra: Record<string, unknown>) => json({ t: 'report', name: 'h2', interfaces: [], links: [], rules: [], ...extra });

  it('carries the ports the host listens on, checked: integers 1..65535 under udp and tcp only', () => {
    expect(parseControlMessage(report({ listen: { udp: 51999, tcp: 443 } }))).toEqual({
      ok: true,
      message: { t: 'report', name: 'h2', interfaces: [], links: [], rules: [], listen: { udp: 51999, tcp: 443 } },
    });
    expect(parseControlMessage(report({ listen: { udp: 51999 } }))).toMatchObject({ ok: true, message: { listen: { udp: 51999 } } });
    const wire = encodeControlMessage({ t: 'report', name: 'h2', interfaces: [], links: [], rules: [], listen: { udp: 51999 } });
    expect(parseControlMessage(wire)).toMatchObject({ ok: true, message: { listen: { udp: 51999 } } });
  });

  it('is accepted without listen (an older host), and refused whole with a malformed one', () => {
    const plain = parseControlMessage(report({}));
    expect(plain.ok && plain.message).toEqual({ t: 'report', name: 'h2', interfaces: [], links: [], rules: [] });
    for (const listen of [{ udp: 0 }, { udp: 65_536 }, { udp: 51820.5 }, { udp: '51820' }, { udp: 51820, sctp: 9 }, [51820], null, 'udp']) {
      expect(parseControlMessage(report({ listen }))).toEqual({ ok: false, reason: 'report-invalid', detail: 'malformed report: needs listen { udp?, tcp? } (ports 1..65535)' });
    }
  });
});

const link = { ...linkStatus({ name: 'proxy', endpoint: 'udp:198.18.1.1:51820', rxBytes: 1, txBytes: 2, rxPackets: 3, txPackets: 4, drops: { 'bad-packet-auth': 1 } }), owner: 'config' };
const iface = { name: 'tap-h1v1', kind: 'tap', state: 'up', rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, drops: {} };
const rule = { id: 1, src: 'any', dst: 'none', target: 'proxy', priority: 0, owner: 'star', hitFrames: 0, hitBytes: 0 };
const report = (over: Record<string, unknown> = {}) => ({ t: 'report', name: 'h1', interfaces: [iface], links: [link], rules: [rule], ...over });

describe('reports from hosts are checked whole, element by element', () => {
  it('accepts a well-formed report, keeping only the fields it knows', () => {
    const parsed = parseControlMessage(json({ ...report(), links: [{ ...link, extra: 'x'.repeat(100) }] }));
    expect(parsed).toEqual({ ok: true, message: report() });
  });

  it.each([
    ['a null link', { links: [null] }],
    ['a link without a name', { links: [{ ...link, name: undefined }] }],
    ['a link name of 50 000 characters', { links: [{ ...link, name: 'x'.repeat(50_000) }] }],
    ['a rule id that is a string', { rules: [{ ...rule, id: '1' }] }],
    ['a negative counter', { interfaces: [{ ...iface, rxFrames: -1 }] }],
    ['an interface kind that does not exist', { interfaces: [{ ...iface, kind: 'teleporter' }] }],
    ['drops that are not numbers', { links: [{ ...link, drops: { x: 'many' } }] }],
    ['interfaces that are an object', { interfaces: {} }],
    ['a link with more drop reasons than any link has', { links: [{ ...link, drops: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`r${i}`, 1])) }] }],
  ])('refuses a report with %s, under the fixed reason report-invalid', (_what, over) => {
    const parsed = parseControlMessage(json(report(over)));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toBe('report-invalid');
      expect(parsed.detail.length).toBeLessThanOrEqual(200);
    }
  });

  it('gives every refusal one of a fixed set of reasons, whatever the sender put in it', () => {
    const reasons = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const parsed = parseControlMessage(json({ t: `${'x'.repeat(1000)}${i}` }));
      if (!parsed.ok) reasons.add(parsed.reason);
    }
    for (const body of ['nope', '[]', '{"t":"hb"}', '{"t":"req"}', '{"t":"res"}']) {
      const parsed = parseControlMessage(new TextEncoder().encode(body));
      if (!parsed.ok) reasons.add(parsed.reason);
    }
    expect([...reasons].sort()).toEqual(['hb-invalid', 'not-json', 'not-object', 'req-invalid', 'res-invalid', 'unknown-type']);
  });
});

describe('results of relayed primitives are checked for the op they answer', () => {
  it.each([
    ['links', [null]],
    ['links', { not: 'a list' }],
    ['rules', [{ ...rule, owner: 7 }]],
    ['interfaces', [{ ...iface, state: 'sideways' }]],
    ['addLink', null],
    ['addRule', [rule]],
    ['configTimeBound', { upperBoundMs: 'soon' }],
    ['macs', [{ mac: 'not-a-mac', port: 'p', static: false, ageS: 1 }]],
    ['deleteRule', { surprise: true }],
  ] as const)('refuses %s answered with %j', (op, result) => {
    expect(checkPrimitiveResult(op, result).ok).toBe(false);
  });

  it('accepts what each op returns, rebuilt from the known fields', () => {
    expect(checkPrimitiveResult('links', [{ ...link, extra: 1 }])).toEqual({ ok: true, value: [link] });
    expect(checkPrimitiveResult('addRule', rule)).toEqual({ ok: true, value: rule });
    expect(checkPrimitiveResult('deleteLink', null)).toEqual({ ok: true, value: null });
    expect(checkPrimitiveResult('setConfigTimeBound', { upperBoundMs: 2000 })).toEqual({ ok: true, value: { upperBoundMs: 2000 } });
    expect(checkPrimitiveResult('macs', [{ mac: '02:00:c6:13:01:01', port: 'tap-h1v1', static: false, ageS: 1.5 }]).ok).toBe(true);
  });
});

describe('the move messages', () => {
  const VM = '02:00:c6:13:01:01';

  it('round-trip, whole and checked', () => {
    for (const message of [
      { t: 'mac-moved', id: 7, mac: VM, host: 'h2' },
      { t: 'mac-moved-ack', id: 7 },
      { t: 'mac-arrived', mac: VM },
    ] as const) {
      expect(parseControlMessage(encodeControlMessage(message))).toEqual({ ok: true, message });
    }
  });

  it('refuse a bad id, a MAC that is not a lower-case unicast MAC, a host name that is empty or too long', () => {
    const refused = (v: Record<string, unknown>) => {
      const r = parseControlMessage(json(v));
      return r.ok ? 'accepted' : r.reason;
    };
    expect(refused({ t: 'mac-moved', id: 0, mac: VM, host: 'h2' })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: 1.5, mac: VM, host: 'h2' })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: '1', mac: VM, host: 'h2' })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: 1, mac: '02:00:C6:13:01:01', host: 'h2' })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: 1, mac: '01:00:5e:00:00:01', host: 'h2' })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: 1, mac: VM, host: '' })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: 1, mac: VM, host: 'h'.repeat(65) })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved', id: 1, mac: VM })).toBe('mac-moved-invalid');
    expect(refused({ t: 'mac-moved-ack' })).toBe('mac-moved-ack-invalid');
    expect(refused({ t: 'mac-arrived', mac: 'ff:ff:ff:ff:ff:ff' })).toBe('mac-arrived-invalid');
    expect(refused({ t: 'mac-arrived', mac: 42 })).toBe('mac-arrived-invalid');
  });

  it('are the switch\'s own: no extension may take their types', () => {
    expect(() => controlExtensions([{ ...counter, type: 'mac-moved' }])).toThrow(/taken/);
  });
});

describe('proxy-active (Proxy HA)', () => {
  it('round-trips; refuses an epoch that is not a positive safe integer; is the switch\'s own type', () => {
    const message = { t: 'proxy-active', epoch: 42 } as const;
    expect(parseControlMessage(encodeControlMessage(message))).toEqual({ ok: true, message });
    for (const epoch of [0, -1, 1.5, '7', 2 ** 53, undefined]) {
      const r = parseControlMessage(json({ t: 'proxy-active', epoch }));
      expect(r.ok ? 'accepted' : r.reason).toBe('proxy-active-invalid');
    }
    expect(() => controlExtensions([{ ...counter, type: 'proxy-active' }])).toThrow(/taken/);
  });
});
