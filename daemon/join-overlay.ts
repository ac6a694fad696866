/**
 * What the Proxy's join service (switch/join/join-service.ts) needs of the daemon: its name and key, where hosts
 * reach its links, which names and keys are taken, and its primitives to add a joined host's star link — the same
 * addLink an operator's `vswitch link add` runs, under the actor "join", so the link is a link like any other
 * (listed, reported, relayed to, seen by VTTIF and the fast-path plugin) and only its starness comes from the
 * joined-hosts store (Daemon's isStarLink).
 */
import type { DaemonConfig } from '../switch/config/config.js';
import type { Datapath } from '../switch/datapath.js';
import type { LinkManager } from '../switch/link/link-manager.js';
import { encodeKeyBase64, publicKey } from '../switch/link/noise/crypto.js';
import { JOIN_ACTOR, type JoinOverlay } from '../switch/join/join-service.js';
import type { JoinedHost } from '../switch/join/joined-hosts.js';
import type { LocalPrimitives } from '../switch/overlay/local-primitives.js';

export interface JoinOverlayParts {
  config: DaemonConfig & { privateKey: Uint8Array; join: NonNullable<DaemonConfig['join']> };
  primitives: LocalPrimitives;
  datapath: Datapath;
  links(): LinkManager | undefined;
}

export function joinOverlayOf(parts: JoinOverlayParts): JoinOverlay {
  const { config, primitives, datapath } = parts;
  const proxyPublicKey = encodeKeyBase64(publicKey(config.privateKey));
  return {
    proxyName: config.name,
    proxyPublicKey,
    linkEndpoints: () => {
      const bound = parts.links()?.listenPorts() ?? {};
      const udpPort = bound.udp ?? config.listen.udp.port;
      const endpoint = hostPort(reachable(config.listen.udp.host, config.join.advertise.host), udpPort);
      const tcp = config.listen.tcp;
      const tcpPort = bound.tcp ?? tcp?.port;
      return { endpoint, ...(tcp && tcpPort !== undefined ? { tcpEndpoint: hostPort(reachable(tcp.host, config.join.advertise.host), tcpPort) } : {}) };
    },
    nameConflict: (name) => {
      const port = datapath.get(name);
      if (!port) return undefined;
      return port.port.kind === 'link' ? `the Proxy has a link named ${name}` : `the Proxy has a port named ${name}`;
    },
    keyConflict: (key) => {
      const link = parts.links()?.status().find((l) => l.publicKey === key);
      return link ? `the Proxy's link ${link.name} is to it` : undefined;
    },
    addStarLink: async (host: JoinedHost) => {
      // Already there to the same key (restored by someone else, e.g. the durable state): nothing to do.
      if (parts.links()?.status().some((l) => l.name === host.name && l.publicKey === host.publicKey)) return;
      await primitives.addLink({ name: host.name, publicKey: host.publicKey, transport: 'auto', ...(host.endpoint ? { endpoint: host.endpoint } : {}) }, JOIN_ACTOR);
    },
    deleteStarLink: (name) => primitives.deleteLink(name, JOIN_ACTOR),
  };
}

/** A listen address hosts can dial: itself, unless it is a wildcard (then the address tokens carry). */
function reachable(listenHost: string, advertised: string): string {
  return listenHost === '0.0.0.0' || listenHost === '::' ? advertised : listenHost;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
