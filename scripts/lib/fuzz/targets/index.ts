/** Every fuzz target, in the order the run prints them. Each call makes a fresh target (targets keep state). */
import type { AnyTarget } from '../target.js';
import { apiTarget } from './api.js';
import { configTarget } from './config.js';
import { controlTarget } from './control.js';
import { ethernetTarget } from './ethernet.js';
import { joinTarget } from './join.js';
import { matrixTarget } from './matrix.js';
import { streamTarget } from './stream.js';
import { topologyTarget } from './topology.js';
import { wireguardTarget } from './wireguard.js';

export const TARGET_FACTORIES: Readonly<Record<string, () => AnyTarget>> = {
  ethernet: ethernetTarget,
  wireguard: wireguardTarget,
  'stream-framing': streamTarget,
  control: controlTarget,
  'vttif-matrix': matrixTarget,
  config: configTarget,
  topology: topologyTarget,
  'api-validator': apiTarget,
  join: joinTarget,
};

export const TARGET_NAMES = Object.keys(TARGET_FACTORIES);

export function makeTarget(name: string): AnyTarget {
  const factory = TARGET_FACTORIES[name];
  if (!factory) throw new Error(`fuzz: no target "${name}" (targets: ${TARGET_NAMES.join(', ')})`);
  return factory();
}
