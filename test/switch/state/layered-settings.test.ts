/** Settings layered on the config: only what differs is saved, and a field comes back only while its base holds. */
import { describe, expect, it } from 'vitest';
import { layerOver, restoreLayered } from '../../../switch/state/layered-settings.js';
import { StateCorruptError } from '../../../switch/state/state-errors.js';

const problem = (where: string, p: string) => new StateCorruptError('f', where, p, '');

describe('layered settings', () => {
  it('saves the fields that differ from the config, with the config value each was set over; none: nothing to save', () => {
    expect(layerOver({ threshold: 0.2, updateRateHz: 20, smoothingMs: null }, { threshold: 0.1, updateRateHz: 20, smoothingMs: null })).toEqual({ threshold: { value: 0.2, base: 0.1 } });
    expect(layerOver({ threshold: 0.1 }, { threshold: 0.1 })).toBeNull();
    expect(layerOver({ smoothingMs: 500 }, {})).toEqual({ smoothingMs: { value: 500, base: null } });
  });

  it('restores a field while the config still says what it said; where the config changed it, the config wins and says why', () => {
    const saved = layerOver({ threshold: 0.2, updateRateHz: 10 }, { threshold: 0.1, updateRateHz: 20 })!;
    expect(restoreLayered('vttif', 'parameters', saved, { threshold: 0.1, updateRateHz: 20 }, problem)).toEqual({ apply: { threshold: 0.2, updateRateHz: 10 }, superseded: [] });
    const { apply, superseded } = restoreLayered('vttif', 'parameters', saved, { threshold: 0.3, updateRateHz: 20 }, problem);
    expect(apply).toEqual({ updateRateHz: 10 });
    expect(superseded).toEqual([{ field: 'threshold', reason: "the config's threshold is now 0.3 (it was 0.1 when 0.2 was set): the config wins" }]);
    expect(restoreLayered('fastpath', 'settings', { gone: { value: 1, base: 2 } }, { maxLinks: 3 }, problem).superseded[0]!.reason).toMatch(/no setting of fastpath/);
  });

  it('a field that is not { value, base } is corruption, naming it', () => {
    expect(() => restoreLayered('vttif', 'parameters', { threshold: 0.2 }, { threshold: 0.1 }, problem)).toThrow(expect.objectContaining({ code: 'state-corrupt', where: 'vttif "parameters"', problem: 'threshold: must be { value, base }' }));
  });
});
