import { describe, expect, it } from 'vitest';
import { effectiveCapabilities, needsCapability } from '../../../switch/port/capabilities.js';

// The CapEff lines of real processes: root (every capability), the service (net_admin + net_raw), nobody (none).
const status = (capEff: string): string => `Name:\tnode\nUid:\t65534\t65534\t65534\t65534\nCapInh:\t0000000000003000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('effectiveCapabilities', () => {
  it('reads the bits of CapEff, not of the other sets', () => {
    expect([...effectiveCapabilities(status('0000000000003000'))!].sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect([...effectiveCapabilities(status('0000000000001000'))!]).toEqual(['CAP_NET_ADMIN']);
    expect([...effectiveCapabilities(status('0000000000002000'))!]).toEqual(['CAP_NET_RAW']);
    expect(effectiveCapabilities(status('0000000000000000'))!.size).toBe(0);
    expect([...effectiveCapabilities(status('000001ffffffffff'))!].sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
  });

  it('is undefined when the text has no CapEff line', () => {
    expect(effectiveCapabilities('Name:\tnode\n')).toBeUndefined();
  });
});

describe('needsCapability', () => {
  it('says whether this process lacks the capability, or has it and something else refused', () => {
    expect(needsCapability('CAP_NET_RAW', new Set())).toBe('needs CAP_NET_RAW, which this process lacks');
    expect(needsCapability('CAP_NET_RAW', new Set(['CAP_NET_RAW']))).toMatch(/^needs CAP_NET_RAW; this process has it, so something else refused/);
    expect(needsCapability('CAP_NET_ADMIN', undefined)).toBe('needs CAP_NET_ADMIN');
  });
});
