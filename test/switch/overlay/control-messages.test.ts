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
