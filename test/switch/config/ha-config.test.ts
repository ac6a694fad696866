import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../switch/config/load-config.js';

const KEY = Buffer.alloc(32, 3).toString('base64');
const PUB = Buffer.alloc(32, 4).toString('base64');
const PUB2 = Buffer.alloc(32, 5).toString('base64');
const PROXY = `name: p1\nrole: proxy\nprivateKey: "${KEY}"\n`;
const HOST = `name: h1\nprivateKey: "${KEY}"\npeers:\n  - { name: p1, publicKey: "${PUB}" }\n  - { name: p2, publicKey: "${PUB2}" }\n`;

function problemOf(text: string): { keyPath: string; problem: string } {
  try {
    parseConfig(text, 'c.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('parseConfig: Proxy HA', () => {
  it('a host with one proxy is as before (no list)', () => {
    const c = parseConfig(`${HOST}proxy: p1\n`, 'c.yaml');
    expect(c.proxy).toBe('p1');
    expect(c.proxies).toBeUndefined();
  });

  it('a host lists its proxies; the first is followed until one announces itself', () => {
    const c = parseConfig(`${HOST}proxy: [p2, p1]\n`, 'c.yaml');
    expect(c.proxy).toBe('p2');
    expect(c.proxies).toEqual(['p2', 'p1']);
  });

  it('a Proxy reads its election, with defaults', () => {
    expect(parseConfig(`${PROXY}ha: { etcd: ["http://198.18.0.201:2379", "http://198.18.0.202:2379"] }\n`, 'c.yaml').ha).toEqual({
      etcd: ['http://198.18.0.201:2379', 'http://198.18.0.202:2379'],
      leaseTtlMs: 2000,
      key: '/vswitch/proxy/leader',
    });
    expect(parseConfig(PROXY, 'c.yaml').ha).toBeUndefined();
  });

  it.each([
    [`${HOST}proxy: [p1, p3]\n`, 'proxy[1]', 'must name one of the peers (found "p3")'],
    [`${HOST}proxy: [p1, p1]\n`, 'proxy[1]', 'names "p1" twice'],
    [`${HOST}proxy: []\n`, 'proxy', 'lists no proxy'],
    [`${HOST}ha: { etcd: ["http://198.18.0.201:2379"] }\n`, 'ha', 'Proxies elect the active one'],
    [`${PROXY}ha: {}\n`, 'ha.etcd', 'is required'],
    [`${PROXY}ha: { etcd: ["198.18.0.201:2379"] }\n`, 'ha.etcd[0]', 'http://HOST:PORT'],
    [`${PROXY}ha: { etcd: ["http://e:2379"], leaseTtlMs: 500 }\n`, 'ha.leaseTtlMs', '2000'],
    [`${PROXY}ha: { etcd: ["http://e:2379"], key: "no-slash" }\n`, 'ha.key', 'starting with "/"'],
    [`${PROXY}ha: { etcd: ["http://e:2379"], ttl: 2 }\n`, 'ha.ttl', 'unknown key; expected one of etcd, leaseTtlMs, key'],
  ])('refuses %j at %s', (text, keyPath, problem) => {
    const e = problemOf(text);
    expect(e.keyPath).toBe(keyPath);
    expect(e.problem).toContain(problem);
  });
});
