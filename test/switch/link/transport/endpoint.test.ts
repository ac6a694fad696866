import { describe, expect, it } from 'vitest';
import { formatEndpoint, isSameAddress, parseEndpoint, unmapIpv4 } from '../../../../switch/link/transport/endpoint.js';

describe('endpoint', () => {
  it('formats IPv4, bracketed IPv6 and connection ids', () => {
    expect(formatEndpoint({ transport: 'udp', host: '198.18.0.1', port: 51820 })).toBe('udp:198.18.0.1:51820');
    expect(formatEndpoint({ transport: 'tcp', host: '::1', port: 443 })).toBe('tcp:[::1]:443');
    expect(formatEndpoint({ transport: 'tcp', host: '198.18.0.1', port: 443, connectionId: 7 })).toBe(
      'tcp:198.18.0.1:443#7',
    );
  });

  it('parses host:port, [v6]:port and a transport prefix', () => {
    expect(parseEndpoint('198.18.0.1:51820')).toEqual({ transport: 'udp', host: '198.18.0.1', port: 51820 });
    expect(parseEndpoint('[2001:db8::1]:443', 'tcp')).toEqual({ transport: 'tcp', host: '2001:db8::1', port: 443 });
    expect(parseEndpoint('tcp:198.18.0.1:443')).toEqual({ transport: 'tcp', host: '198.18.0.1', port: 443 });
    expect(parseEndpoint(' udp:[::ffff:198.18.0.1]:1 ', 'tcp')).toEqual({ transport: 'udp', host: '198.18.0.1', port: 1 });
  });

  it('round-trips format → parse', () => {
    for (const text of ['udp:198.18.0.1:51820', 'tcp:[::1]:443', 'tcp:[2001:db8::5]:65535']) {
      expect(formatEndpoint(parseEndpoint(text))).toBe(text);
    }
  });

  it.each([
    ['198.18.0.1', 'missing port'],
    ['example.com:443', 'not an IP literal'],
    ['::1:443', 'IPv6 without brackets'],
    ['[::1]443', 'no colon after bracket'],
    ['[198.18.0.1]:443', 'IPv4 in brackets'],
    ['198.18.0.1:0', 'port 0'],
    ['198.18.0.1:65536', 'port too large'],
    ['198.18.0.1:44x', 'port not a number'],
    ['198.18.0.1:', 'empty port'],
  ])('rejects %s (%s) with EndpointParseError', (text) => {
    expect(() => parseEndpoint(text)).toThrow(expect.objectContaining({ code: 'endpoint-parse', name: 'EndpointParseError' }));
  });

  it('unmaps IPv4-mapped IPv6 and compares addresses ignoring the connection', () => {
    expect(unmapIpv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapIpv4('::ffff:1')).toBe('::ffff:1');
    expect(unmapIpv4('::1')).toBe('::1');
    const a = { transport: 'tcp' as const, host: '198.18.0.1', port: 443 };
    expect(isSameAddress(a, { ...a, connectionId: 3 })).toBe(true);
    expect(isSameAddress(a, { ...a, transport: 'udp' })).toBe(false);
  });
});
