import { isIP } from 'node:net';
import { EndpointParseError } from './errors.js';

/**
 * Where a link message came from or goes to. `connectionId` names one TCP
 * connection: a message received on connection N reports it, and sending to
 * an endpoint that carries it reuses that very connection (WireGuard roaming:
 * the reply follows the latest authenticated packet, down to the connection).
 * Hosts are numeric IP literals (no DNS on the data path); IPv4-mapped IPv6
 * addresses are reported in their IPv4 form.
 */
export interface Endpoint {
  readonly transport: EndpointTransport;
  readonly host: string;
  readonly port: number;
  readonly connectionId?: number;
}

export type EndpointTransport = 'udp' | 'tcp';

/** "udp:198.18.0.1:51820", "tcp:[::1]:443", "tcp:198.18.0.1:443#7" (connection 7). */
export function formatEndpoint(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const id = endpoint.connectionId === undefined ? '' : `#${endpoint.connectionId}`;
  return `${endpoint.transport}:${host}:${endpoint.port}${id}`;
}

/**
 * Parses "198.18.0.1:51820", "[::1]:443", "tcp:198.18.0.1:443" (the prefix
 * overrides `defaultTransport`). Hosts must be IP literals. Throws
 * EndpointParseError (a configuration error, not a per-packet one).
 */
export function parseEndpoint(text: string, defaultTransport: EndpointTransport = 'udp'): Endpoint {
  let rest = text.trim();
  let transport = defaultTransport;
  if (rest.startsWith('udp:') || rest.startsWith('tcp:')) {
    transport = rest.slice(0, 3) as EndpointTransport;
    rest = rest.slice(4);
  }
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw new EndpointParseError(text, 'expected [ipv6]:port');
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
    if (isIP(host) !== 6) throw new EndpointParseError(text, 'not an IPv6 address inside brackets');
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw new EndpointParseError(text, 'missing :port');
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (isIP(host) !== 4) {
      throw new EndpointParseError(text, host.includes(':') ? 'IPv6 addresses need brackets' : 'host is not an IPv4 address');
    }
  }
  if (!/^\d{1,5}$/.test(portText)) throw new EndpointParseError(text, 'port is not a number');
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new EndpointParseError(text, 'port out of range 1..65535');
  return { transport, host: unmapIpv4(host), port };
}

/** "::ffff:198.18.0.1" → "198.18.0.1"; anything else unchanged. */
export function unmapIpv4(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}

/** Same host, port and transport; `connectionId` is ignored. */
export function isSameAddress(a: Endpoint, b: Endpoint): boolean {
  return a.transport === b.transport && a.port === b.port && a.host === b.host;
}
