import { describe, expect, it } from 'vitest';
import { parseDaemonConfig } from '../../../daemon/config.js';
import type { VttifConfig } from '../../../plugins/vttif/config.js';

const base = 'name: h1\n';

describe('config: vttif', () => {
  it('defaults to enabled, 20 Hz, threshold 0.1, smoothing derived (absent)', () => {
    expect(parseDaemonConfig(base, 'c.yaml').sections.get('vttif')).toEqual({ enabled: true, updateRateHz: 20, threshold: 0.1 });
  });

  it('reads all three parameters, and enabled: false', () => {
    expect(parseDaemonConfig(`${base}vttif: { updateRateHz: 2.5, smoothingMs: 500, threshold: 0.25 }\n`, 'c.yaml').sections.get('vttif')).toEqual({
      enabled: true,
      updateRateHz: 2.5,
      smoothingMs: 500,
      threshold: 0.25,
    });
    expect((parseDaemonConfig(`${base}vttif: { enabled: false }\n`, 'c.yaml').sections.get('vttif') as VttifConfig).enabled).toBe(false);
  });

  it.each([
    ['updateRateHz: 0', 'vttif.updateRateHz'],
    ['updateRateHz: 21', 'vttif.updateRateHz'],
    ['smoothingMs: 50', 'vttif.smoothingMs'],
    ['smoothingMs: 1.5', 'vttif.smoothingMs'],
    ['threshold: 1.5', 'vttif.threshold'],
    ['threshold: "high"', 'vttif.threshold'],
    ['enabled: 1', 'vttif.enabled'],
    ['rate: 5', 'vttif.rate'],
  ])('refuses %s, naming the key', (line, keyPath) => {
    let error: unknown;
    try {
      parseDaemonConfig(`${base}vttif: { ${line} }\n`, 'c.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'config-invalid', keyPath });
  });
});
