/**
 * The fast-path policy as a plugin (plugins/host/plugin.ts): it takes VTTIF's `app-topology` events from the plugin
 * registry like any other plugin, and enabling or disabling it through the registry is the same switch as its own
 * `enabled` setting (PUT /v1/plugins/fastpath/settings). It acts as "fastpath" (owner "proxy:fastpath" on hosts).
 */
import type { PluginEvent, VswitchPlugin } from '../host/plugin.js';
import type { AppEdge } from './adapt.js';
import { FastPath, type FastPathComponents, type FastPathSettings } from './fastpath.js';

export type FastPathPluginParts = Omit<FastPathComponents, 'subscribe'>;

export class FastPathPlugin implements VswitchPlugin {
  readonly events = ['app-topology'] as const;
  readonly description = 'Direct links and rules between the hosts whose VMs talk, heaviest first; the star stays.';
  readonly fastpath: FastPath;
  #listener: ((event: { edges: readonly AppEdge[] }) => void) | undefined;

  constructor(parts: FastPathPluginParts, settings: Partial<FastPathSettings>) {
    this.fastpath = new FastPath(
      {
        ...parts,
        subscribe: (listener) => {
          this.#listener = listener;
          return () => (this.#listener = undefined);
        },
      },
      settings,
    );
    this.fastpath.start();
  }

  isEnabled(): boolean {
    return this.fastpath.settings().enabled;
  }

  async start(): Promise<void> {
    if (!this.isEnabled()) await this.fastpath.setSettings({ enabled: true });
  }

  async stop(): Promise<void> {
    if (this.isEnabled()) await this.fastpath.setSettings({ enabled: false });
  }

  onEvent(event: PluginEvent): void {
    if (event.type === 'app-topology' && event.topology) this.#listener?.({ edges: event.topology.edges });
  }

  status(): Record<string, unknown> {
    return { ...this.fastpath.status() };
  }

  /** The daemon stops: the watch ends, fast links stay until the hosts forget them. */
  close(): void {
    this.fastpath.stop();
  }
}
