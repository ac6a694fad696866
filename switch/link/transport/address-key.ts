import { isIP } from 'node:net';

/**
 * The key per-source limits count an address by (the handshake rate limiter, the TCP transport's connections per
 * source): an IPv4 address itself, an IPv6 address by its /64 ("2001:db8:1:2::/64"), as wireguard-go's rate
 * limiter does — one subscriber usually holds a whole /64, so keying by the full address would let it use 2^64
 * keys. IPv4-mapped IPv6 addresses count as their IPv4 address; anything that is not an IP literal is its own key.
 */
export function addressKey(host: string): string {
  const kind = isIP(host);
  if (kind === 4) return host;
  if (kind !== 6) return host;
  const address = host.toLowerCase();
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of a valid IPv6 address (no zone), each as hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const zone = address.indexOf('%');
  const text = zone < 0 ? address : address.slice(0, zone);
  const split = (part: string): string[] => {
    if (part === '') return [];
    const groups = part.split(':');
    const last = groups[groups.length - 1]!;
    if (last.includes('.')) {
      // An embedded IPv4 address is the last two groups.
      const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
      groups.splice(groups.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
    }
    return groups;
  };
  const gap = text.indexOf('::');
  const head = split(gap < 0 ? text : text.slice(0, gap));
  const tail = gap < 0 ? [] : split(text.slice(gap + 2));
  const zeros = Array.from({ length: 8 - head.length - tail.length }, () => '0');
  return [...head, ...zeros, ...tail].map((g) => parseInt(g, 16).toString(16));
}
