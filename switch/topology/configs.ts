/**
 * Pure: a described overlay → the config of each daemon that starts it (the
 * `start a collection of daemons` tool; the lab writes these as YAML and
 * runs `vswitch up -c`). Each config carries the host's links as `peers`
 * (named after the other host, with its key, endpoint and transport) and,
 * on a host, `proxy:` naming its star link. Rules are not in daemon configs:
 * after start, apply the same description to install them. Ports, the API
 * and the switch settings are the caller's to add.
 */
import type { Overlay } from './ast.js';
import { assertValidTopology } from './check.js';
import { MissingPrivateKeyError } from './errors.js';

/** The YAML shape `switch/config/load-config.ts` reads (the subset this fills). */
export interface DaemonConfigDocument {
  name: string;
  role: 'host' | 'proxy';
  proxy?: string;
  privateKey: string;
  listen: { udp: string };
  peers: { name: string; publicKey: string; endpoint?: string; transport: 'udp' | 'tcp' | 'auto' }[];
}

export interface ConfigsForOptions {
  /** Base64 private key of each host (its public key must be the described one; not checked here: no crypto in the core). */
  privateKeys: Readonly<Record<string, string>>;
  /** Address to listen on (default 0.0.0.0); the port is the host's endpoint port (default 51820). */
  listenHost?: string;
}

/** Throws TopologyInvalidError for an invalid overlay, MissingPrivateKeyError when a host has no key. */
export function configsFor(overlay: Overlay, options: ConfigsForOptions): Record<string, DaemonConfigDocument> {
  assertValidTopology(overlay);
  const proxy = overlay.hosts.find((h) => h.isProxy)!;
  const configs: Record<string, DaemonConfigDocument> = {};
  for (const host of overlay.hosts) {
    const privateKey = options.privateKeys[host.name];
    if (privateKey === undefined) throw new MissingPrivateKeyError(host.name);
    const port = host.endpoint ? Number(/:(\d+)$/.exec(host.endpoint)?.[1]) : 51820;
    const peers = overlay.links
      .filter((l) => l.a === host.name || l.b === host.name)
      .map((l) => {
        const other = overlay.hosts.find((h) => h.name === (l.a === host.name ? l.b : l.a))!;
        return { name: other.name, publicKey: other.publicKey, ...(other.endpoint ? { endpoint: other.endpoint } : {}), transport: l.transport };
      })
      .sort((x, y) => (x.name < y.name ? -1 : 1));
    configs[host.name] = {
      name: host.name,
      role: host.isProxy ? 'proxy' : 'host',
      ...(host.isProxy ? {} : { proxy: proxy.name }),
      privateKey,
      listen: { udp: `${options.listenHost ?? '0.0.0.0'}:${port}` },
      peers,
    };
  }
  return configs;
}
