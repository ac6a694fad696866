import { describe, expect, it } from 'vitest';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { hostConfigYaml, type JoinedHostConfig } from '../../../switch/join/host-config.js';
import { decodeKeyBase64, encodeKeyBase64 } from '../../../switch/link/noise/crypto.js';

const KEY = encodeKeyBase64(new Uint8Array(32).fill(5));

function base(): JoinedHostConfig {
  return {
    answer: { v: 1, name: 'h9', proxy: { name: 'proxy', publicKey: KEY, endpoint: '198.18.1.1:51820', tcpEndpoint: '198.18.1.1:443' } },
    key: { inline: KEY },
    listen: '0.0.0.0:51820',
    apiListen: 'unix:/run/vswitch/h9/api.sock',
    taps: [{ name: 'tap-h9v1', mtu: 1420 }],
    joinedAt: '2025-01-01T00:00:00.000Z',
    tokenId: '0123456789abcdef',
    joinAddress: '198.18.1.1:7443',
  };
}

describe('the config `vswitch join` writes', () => {
  it('is a host whose one peer is its Proxy, with its VM ports, as the daemon reads it', () => {
    const text = hostConfigYaml(base());
    const config = parseDaemonConfig(text, 'h9.yaml');
    expect(config).toMatchObject({ name: 'h9', role: 'host', proxy: 'proxy', api: { listen: 'unix:/run/vswitch/h9/api.sock' } });
    expect(config.peers).toEqual([
      { name: 'proxy', publicKey: decodeKeyBase64(KEY), endpoint: { host: '198.18.1.1', port: 51820 }, tcpEndpoint: { host: '198.18.1.1', port: 443 }, transport: 'auto' },
    ]);
    expect(config.ports).toEqual([{ type: 'tap', name: 'tap-h9v1', mtu: 1420 }]);
    expect(config.listen).toEqual({ udp: { host: '0.0.0.0', port: 51820 }, tcp: { host: '0.0.0.0', port: 51820 } });
    expect(text.split('\n')[0]).toMatch(/^# written by `vswitch join`/);
    expect(hostConfigYaml({ ...base(), key: { file: '/etc/vswitch/h9.key' } })).toContain('privateKeyFile: "/etc/vswitch/h9.key"');
  });
});
