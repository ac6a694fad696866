/**
 * VTTIF's section of the daemon config (`vttif:`): hosts count per (src, dst) MAC and send their matrix at
 * updateRateHz; the Proxy uses all three parameters. `enabled: false` = no counting at all (the data path is
 * untouched). Ranges as plugins/vttif/parameters.ts checks them (1..20 Hz, ≥ 100 ms, 0..1).
 */
import type { ConfigSection } from '../../switch/config/config-section.js';

export interface VttifConfig {
  enabled: boolean;
  /** 1..20 Hz. */
  updateRateHz: number;
  /** Proxy's smoothing window; absent = derived from the config-time bound (max(1000, 2 × bound)). */
  smoothingMs?: number;
  /** 0..1: fraction of the heaviest pair's intensity an edge needs. */
  threshold: number;
}

export const vttifConfigSection: ConfigSection<VttifConfig> = {
  key: 'vttif',
  read(r) {
    r.onlyKeys(['vttif'], ['enabled', 'updateRateHz', 'smoothingMs', 'threshold']);
    const vttif: VttifConfig = {
      enabled: r.boolean(['vttif', 'enabled'], { default: true }),
      updateRateHz: r.number(['vttif', 'updateRateHz'], { default: 20, min: 1, max: 20 }),
      threshold: r.number(['vttif', 'threshold'], { default: 0.1, min: 0, max: 1 }),
    };
    if (r.has(['vttif', 'smoothingMs'])) vttif.smoothingMs = r.integer(['vttif', 'smoothingMs'], { default: 1000, min: 100, max: 3_600_000 });
    return vttif;
  },
};
