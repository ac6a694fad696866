/**
 * How the Proxy can reach a host, from what its star link tells it (issue 19, NAT traversal). The Proxy sees one
 * thing a NAT does: the authenticated source address of the host's packets (its `observed endpoint`: the link's
 * endpoint after roaming). Compared with what the host says it listens on, that tells three cases apart:
 *
 *   open             the Proxy's config names an endpoint for the host: anyone can dial it there;
 *   port-preserving  no endpoint configured, and the host is heard at the UDP port it listens on: a NAT (or a
 *                    firewall) that keeps the port, as Linux masquerade does. Both ends of a fast path sending to
 *                    each other's observed endpoint open each NAT's pinhole: punching works;
 *   port-changing    no endpoint configured, heard at another port: a NAT that maps ports anew (a symmetric NAT maps
 *                    every destination anew, so the port the Proxy saw is not the one a peer would see): punching
 *                    toward it works only from an open host; two such hosts stay on the star;
 *   unknown          not heard over UDP yet (a TCP star's source port says nothing), or no listen port reported.
 *
 * One observer cannot tell a symmetric NAT from a cone NAT that merely changed the port (that takes two observers,
 * as STUN's behaviour discovery does); the fast path tries either way and backs off when a punch fails.
 */
export type NatKind = 'open' | 'port-preserving' | 'port-changing' | 'unknown';

export interface HostReachability {
  readonly nat: NatKind;
  /** Where the Proxy hears the host now ("udp:198.18.0.2:51820"): where a peer's punch is aimed. */
  readonly observedEndpoint?: string;
}

export interface ReachabilityInput {
  /** The endpoint the Proxy's config gives the host (undefined: the host dials out; the Proxy only hears it). */
  readonly configuredEndpoint?: string;
  /** The link's current endpoint ("udp:ADDR:PORT" or "tcp:ADDR:PORT#n"). */
  readonly observedEndpoint?: string;
  /** The UDP port the host reported listening on. */
  readonly listenUdpPort?: number;
}

export function reachabilityOf(input: ReachabilityInput): HostReachability {
  const observed = input.observedEndpoint === undefined ? {} : { observedEndpoint: input.observedEndpoint };
  if (input.configuredEndpoint !== undefined) return { nat: 'open', ...observed };
  const m = input.observedEndpoint === undefined ? null : /^udp:.+:(\d+)$/.exec(input.observedEndpoint);
  if (m === null || input.listenUdpPort === undefined) return { nat: 'unknown', ...observed };
  return { nat: Number(m[1]) === input.listenUdpPort ? 'port-preserving' : 'port-changing', ...observed };
}

/** Whether a fast path between hosts of these kinds needs both ends to punch (either one cannot be dialed). */
export const needsPunch = (a: NatKind, b: NatKind): boolean => a !== 'open' || b !== 'open';
