/**
 * The premise of the dashboard's XSS test (test/e2e/dashboard-hostile.test.ts): what the hostile host sends with
 * markup gets through the Proxy's checks — otherwise the page would never see it and the test would prove nothing —
 * and what it sends to be refused is refused, under the reason the test counts.
 */
import { describe, expect, it } from 'vitest';
import { VTTIF_CONTROL_EXTENSIONS } from '../../plugins/vttif/control-extensions.js';
import { checkPrimitiveResult, controlExtensions, parseControlMessage, PRIMITIVE_OPS } from '../../switch/overlay/control-messages.js';
import { SHAPE_LIMITS } from '../../switch/overlay/control-schemas.js';
import { linkStatus } from '../support/link-status.js';
import { BAIT_POLICY, longMarkup, markupAnswer, markupMatrix, markupReport, PLACED, refusedMessages } from '../../scripts/lib/hostile-markup.js';

const extensions = controlExtensions(VTTIF_CONTROL_EXTENSIONS);
const wire = (message: unknown) => parseControlMessage(new TextEncoder().encode(JSON.stringify(message)), extensions);
const star = linkStatus({ name: 'proxy' });

describe('the hostile host of the XSS test', () => {
  it('fills fields to their caps', () => {
    expect(longMarkup(64)).toHaveLength(SHAPE_LIMITS.nameChars);
    expect(PLACED.ruleOwners.some((o) => o.length === SHAPE_LIMITS.ownerChars)).toBe(true);
    expect(PLACED.errorMessage).toHaveLength(SHAPE_LIMITS.textChars);
    for (const s of [...PLACED.vmPorts, ...PLACED.linkNames, ...PLACED.ruleTargets]) expect(s).toMatch(/[<>"'&\u202e]|javascript:/);
  });

  it('answers every listing, after its first (refused) answer, with a result the Proxy accepts', () => {
    for (const op of ['interfaces', 'links', 'rules', 'macs'] as const) {
      const first = markupAnswer(op, 1, star);
      expect(first.ok && checkPrimitiveResult(op, first.result).ok, op).toBe(false);
      const answer = markupAnswer(op, 2, star);
      if (!answer.ok) throw new Error(`${op}: answered with an error`);
      const checked = checkPrimitiveResult(op, answer.result);
      expect(checked.ok, `${op}: ${JSON.stringify(checked)}`).toBe(true);
      // The answer reaches the Proxy whole: nothing is cut or dropped by the check.
      expect(checked.ok && checked.value).toEqual(answer.result);
    }
    const rules = (markupAnswer('rules', 2, star) as { result: { owner: string }[] }).result;
    expect(rules.some((r) => r.owner === `proxy:policy:${BAIT_POLICY}`)).toBe(true);
  });

  it('fails every change with markup as its message, which the Proxy takes as an error answer', () => {
    for (const op of PRIMITIVE_OPS.filter((o) => !['interfaces', 'links', 'rules', 'macs', 'configTimeBound'].includes(o))) {
      const answer = markupAnswer(op, 1, star);
      expect(answer.ok, op).toBe(false);
      const parsed = wire({ t: 'res', id: '00ff', ...answer });
      expect(parsed.ok && parsed.message.t === 'res' && parsed.message.error?.message).toBe(PLACED.errorMessage);
    }
  });

  it('sends a report and a matrix that pass the checks', () => {
    expect(wire(markupReport('h2', star))).toMatchObject({ ok: true, message: { t: 'report' } });
    expect(wire(markupMatrix('h2', 1))).toMatchObject({ ok: true, message: { t: 'plugin', type: 'matrix' } });
  });

  it('sends what the checks must refuse, each under the reason the test counts', () => {
    const messages = refusedMessages('h2');
    expect(messages.length).toBeGreaterThan(5);
    for (const { reason, message } of messages) {
      const parsed = wire(message);
      expect(parsed.ok, JSON.stringify(message).slice(0, 100)).toBe(false);
      expect(!parsed.ok && parsed.reason).toBe(reason);
    }
  });
});
