import { describe, expect, it } from 'vitest';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { stringify } from 'yaml';
import { configsFor } from '../../../switch/topology/configs.js';
import { parseTopology } from '../../../switch/topology/parser.js';
import { KEYS, STAR, key } from './fixtures.js';

const privateKeys = { proxy: key('p'), h1: key('b'), h2: key('c'), h3: key('d') };

describe('configsFor', () => {
  it('gives each daemon its links as peers named after the other host, and hosts their proxy', () => {
    const configs = configsFor(parseTopology(STAR), { privateKeys });
    expect(Object.keys(configs)).toEqual(['proxy', 'h1', 'h2', 'h3']);
    expect(configs.h1).toEqual({
      name: 'h1',
      role: 'host',
      proxy: 'proxy',
      privateKey: privateKeys.h1,
      listen: { udp: '0.0.0.0:51820' },
      peers: [
        { name: 'h2', publicKey: KEYS.h2, endpoint: '198.18.0.2:51820', transport: 'tcp' },
        { name: 'proxy', publicKey: KEYS.proxy, endpoint: '198.18.1.1:51820', transport: 'auto' },
      ],
    });
    expect(configs.proxy!.role).toBe('proxy');
    expect(configs.proxy!.peers.map((p) => p.name)).toEqual(['h1', 'h2', 'h3']);
    // What it makes is a config the daemon accepts.
    for (const c of Object.values(configs)) expect(() => parseDaemonConfig(stringify(c), `${c.name}.yaml`)).not.toThrow();
  });

  it('refuses an invalid overlay and a missing private key', () => {
    expect(() => configsFor(parseTopology('link a b'), { privateKeys })).toThrow(expect.objectContaining({ code: 'topology-invalid' }));
    expect(() => configsFor(parseTopology(STAR), { privateKeys: { proxy: key('p') } })).toThrow(expect.objectContaining({ code: 'topology-missing-key', host: 'h1' }));
  });
});
