/**
 * VTTIF's parameters set at run time (PUT /v1/vttif/parameters), saved as one layered record (switch/state/
 * layered-settings.ts) over the config's `vttif:` section: kind "vttif", key "parameters", per field the value set
 * and the config value it was set over (smoothingMs null = derived from the config-time bound). At restart a field
 * comes back while the config still says what it said; a change the state cannot save is undone and refused.
 */
import { ChangeQueue } from '../../switch/state/change-queue.js';
import { layerOver, restoreLayered, type SettingValues } from '../../switch/state/layered-settings.js';
import type { DurableRecords } from '../../switch/state/restore-report.js';
import type { VttifConfig } from './config.js';
import type { VttifService } from './proxy-service.js';
import type { VttifParameterChange, VttifSettings } from './vttif.js';

export const VTTIF_KIND = 'vttif';
export const VTTIF_PARAMETERS_KEY = 'parameters';

export class SavedVttifParameters {
  private readonly changes = new ChangeQueue();
  private readonly base: SettingValues;

  constructor(
    private readonly service: VttifService,
    config: VttifConfig,
    private readonly state: DurableRecords,
  ) {
    this.base = { updateRateHz: config.updateRateHz, smoothingMs: config.smoothingMs ?? null, threshold: config.threshold };
  }

  /** At start, before the service runs: the saved fields whose base is still the config's. */
  async restore(): Promise<void> {
    const { state } = this;
    state.report.read(VTTIF_KIND);
    const saved = state.saved.get(VTTIF_KIND, VTTIF_PARAMETERS_KEY);
    if (saved === undefined) return;
    const { apply, superseded } = restoreLayered(VTTIF_KIND, VTTIF_PARAMETERS_KEY, saved, this.base, state.problem);
    for (const s of superseded) state.report.skipped(VTTIF_KIND, `${VTTIF_PARAMETERS_KEY}.${s.field}`, s.reason);
    try {
      if (Object.keys(apply).length > 0) {
        this.service.setParameters(apply as VttifParameterChange);
        state.report.restored(VTTIF_KIND, VTTIF_PARAMETERS_KEY, Object.keys(apply).join(', '));
      }
    } catch (err) {
      state.report.skipped(VTTIF_KIND, VTTIF_PARAMETERS_KEY, `VTTIF refused the saved parameters: ${(err as Error).message}`);
    }
    const now = layerOver(this.values(), this.base);
    if (JSON.stringify(now) !== JSON.stringify(saved)) await state.write([{ kind: VTTIF_KIND, key: VTTIF_PARAMETERS_KEY, value: now }]);
  }

  /** A run-time change, saved before it is answered; undone (and the store's error thrown) if it cannot be. */
  set(change: VttifParameterChange): Promise<VttifSettings> {
    return this.changes.run(async () => {
      const before = this.values();
      const after = this.service.setParameters(change);
      try {
        await this.state.write([{ kind: VTTIF_KIND, key: VTTIF_PARAMETERS_KEY, value: layerOver(this.values(), this.base) }]);
      } catch (err) {
        this.service.setParameters(before as VttifParameterChange);
        throw err;
      }
      return after;
    });
  }

  private values(): SettingValues {
    const s = this.service.settings();
    return { updateRateHz: s.updateRateHz, smoothingMs: s.isSmoothingDerived ? null : s.smoothingMs, threshold: s.threshold };
  }
}
