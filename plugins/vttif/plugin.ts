/**
 * VTTIF as a plugin (plugins/host/plugin.ts): it takes no events, it makes them — the daemon publishes each
 * topology change it reports as `app-topology`, and the registry its matrix as `matrix`. Disabling it pauses the
 * inference (no ticks, no events; the hosts' counts keep arriving and age out of the window), enabling resumes it.
 */
import type { VswitchPlugin } from '../host/plugin.js';
import type { VttifService } from './proxy-service.js';

export class VttifPlugin implements VswitchPlugin {
  readonly events = [] as const;
  readonly description = 'Infers the application topology from the traffic the hosts count; publishes app-topology and matrix.';

  constructor(private readonly service: VttifService) {}

  isEnabled(): boolean {
    return this.service.running;
  }

  start(): void {
    this.service.resume();
  }

  stop(): void {
    this.service.pause();
  }

  /** The daemon stops VTTIF itself. */
  close(): void {}

  status(): Record<string, unknown> {
    const topology = this.service.topology();
    return { settings: topology.settings, shape: topology.shape, edges: topology.edges.length, detectedAt: topology.detectedAt };
  }
}
