/**
 * Builds the TopologyState from the Proxy: its own primitives, and each
 * host's through the relay, all hosts at once. A host that does not answer
 * is kept, marked unreachable with the error's code, so `show` still shows
 * the rest and `diff` knows what it cannot compare. A host that cannot list
 * its ports (a daemon older than the port primitives) is still reachable:
 * only its ports are unknown.
 */
import type { Primitives } from '../overlay/primitives.js';
import type { HostState, LinkEndView, TopologyState } from './state.js';

/** What fetch needs of the Proxy (the API's deps give exactly this). */
export interface TopologySource {
  /** The Proxy's own name: hosts name their link to it so. */
  proxyName: string;
  proxyPublicKey?: string;
  local: Primitives;
  /** The relayed primitives of a host; undefined for a name the Proxy has no link to. */
  host(name: string): Primitives | undefined;
  /** The hosts the Proxy has star links to. */
  hostNames(): string[];
}

export interface FetchOptions {
  /** Also fetch interfaces and MAC tables (for route). */
  forwarding?: boolean;
}

export async function fetchTopology(source: TopologySource, options: FetchOptions = {}): Promise<TopologyState> {
  const names = [...new Set(source.hostNames())].filter((n) => n !== source.proxyName).sort();
  const hosts = await Promise.all([
    fetchHost(source.proxyName, true, source.local, options),
    ...names.map((name) => fetchHost(name, false, source.host(name), options)),
  ]);
  return { proxy: { name: source.proxyName, ...(source.proxyPublicKey ? { publicKey: source.proxyPublicKey } : {}) }, hosts };
}

async function fetchHost(name: string, isProxy: boolean, primitives: Primitives | undefined, options: FetchOptions): Promise<HostState> {
  const base = { name, isProxy };
  if (!primitives) return { ...base, reachable: false, error: { code: 'not-found', message: `no link to host "${name}"` }, links: [], rules: [] };
  try {
    const [links, rules, ports, interfaces, macs] = await Promise.all([
      primitives.links(),
      primitives.rules(),
      primitives.ports().then(
        (list) => list.filter((p) => p.kind !== 'link').map((p) => ({ name: p.name, kind: p.kind, ...(p.interface === undefined ? {} : { interface: p.interface }) })),
        () => undefined,
      ),
      options.forwarding ? primitives.interfaces() : undefined,
      options.forwarding ? (primitives.macs?.() ?? []) : undefined,
    ]);
    return {
      ...base,
      reachable: true,
      links: links.map((l): LinkEndView => {
        const owner = (l as { owner?: unknown }).owner;
        return { name: l.name, publicKey: l.publicKey, mode: l.mode, state: l.state, ...(l.endpoint ? { endpoint: l.endpoint } : {}), ...(typeof owner === 'string' ? { owner } : {}) };
      }),
      rules,
      ...(ports ? { ports } : {}),
      ...(interfaces ? { interfaces: interfaces.map((i) => ({ name: i.name, kind: i.kind })) } : {}),
      ...(macs ? { macs } : {}),
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ...base, reachable: false, error: { code: typeof code === 'string' ? code : 'error', message: (err as Error).message }, links: [], rules: [] };
  }
}
