import { describe, expect, it } from 'vitest';
import { controlExtensions, encodeControlMessage, parseControlMessage, type ControlExtension } from '../../../switch/overlay/control-messages.js';

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
    expect(parseControlMessage(json({ t: 'count', n: 1.5 }), extensions)).toEqual({ ok: false, reason: 'malformed count: needs n (integer)' });
    expect(parseControlMessage(json({ t: 'count', n: 1 }))).toEqual({ ok: false, reason: 'unknown message type "count"' });
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
      expect(parseControlMessage(report({ listen }))).toEqual({ ok: false, reason: 'malformed report: needs listen { udp?, tcp? } (ports 1..65535)' });
    }
  });
});
