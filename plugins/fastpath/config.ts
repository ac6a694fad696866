/**
 * The fast-path plugin's section of the daemon config (`fastpath:`), on a Proxy with VTTIF. Off by default: the
 * star alone until the config (or PUT /v1/plugins/fastpath/settings) turns it on.
 */
import type { ConfigSection } from '../../switch/config/config-section.js';

export interface FastPathConfig {
  enabled: boolean;
  /** Fast-path links at most per host (0..1000; 7 = all pairs of 8 hosts). */
  maxLinksPerHost: number;
  /** Fast-path links at most in all (default 1000). */
  maxLinks: number;
  /** A pair's link goes once the pair has been absent from VTTIF's topology this long. */
  removeAfterMs: number;
  /** A pair must be in the topology this long before its link is added. */
  addAfterMs: number;
}

export const fastpathConfigSection: ConfigSection<FastPathConfig> = {
  key: 'fastpath',
  read(r) {
    r.onlyKeys(['fastpath'], ['enabled', 'maxLinksPerHost', 'maxLinks', 'removeAfterMs', 'addAfterMs']);
    return {
      enabled: r.boolean(['fastpath', 'enabled'], { default: false }),
      maxLinksPerHost: r.integer(['fastpath', 'maxLinksPerHost'], { default: 7, min: 0, max: 1000 }),
      maxLinks: r.integer(['fastpath', 'maxLinks'], { default: 1000, min: 0, max: 100_000 }),
      removeAfterMs: r.integer(['fastpath', 'removeAfterMs'], { default: 10_000, min: 0, max: 3_600_000 }),
      addAfterMs: r.integer(['fastpath', 'addAfterMs'], { default: 0, min: 0, max: 3_600_000 }),
    };
  },
};
