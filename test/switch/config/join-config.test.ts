import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../switch/config/load-config.js';

const KEY = Buffer.alloc(32, 3).toString('base64');
const PROXY = `name: proxy\nrole: proxy\nprivateKey: "${KEY}"\n`;

function problemOf(text: string): { keyPath: string; problem: string } {
  try {
    parseConfig(text, '/etc/vswitch/proxy.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('parseConfig: join', () => {
  it('is absent unless configured', () => {
    expect(parseConfig(PROXY, 'p.yaml').join).toBeUndefined();
  });

  it('reads the listener; tokens carry its address, the state goes to /var/lib/vswitch/NAME/join', () => {
    expect(parseConfig(`${PROXY}join: { listen: "198.18.1.1:7443" }\n`, '/etc/vswitch/proxy.yaml').join).toEqual({
      listen: { host: '198.18.1.1', port: 7443 },
      advertise: { host: '198.18.1.1', port: 7443 },
      dir: '/var/lib/vswitch/proxy/join',
    });
  });

  it('needs the address hosts reach when it listens on a wildcard address; a relative dir is the config file\'s', () => {
    expect(parseConfig(`${PROXY}join: { listen: "0.0.0.0:7443", advertise: "203.0.113.5:443", dir: state/join }\n`, '/etc/vswitch/proxy.yaml').join).toEqual({
      listen: { host: '0.0.0.0', port: 7443 },
      advertise: { host: '203.0.113.5', port: 443 },
      dir: '/etc/vswitch/state/join',
    });
  });

  it.each([
    [`${PROXY}join: { listen: "0.0.0.0:7443" }\n`, 'join.advertise', 'is required when join.listen is a wildcard address'],
    [`${PROXY}join: { listen: "[::]:7443" }\n`, 'join.advertise', 'is required when join.listen is a wildcard address'],
    [`${PROXY}join: { listen: "198.18.1.1:7443", advertise: "0.0.0.0:7443" }\n`, 'join.advertise', 'not a wildcard'],
    [`${PROXY}join: { listen: "proxy.example:7443" }\n`, 'join.listen', 'numeric IP address'],
    [`${PROXY}join: { listen: "198.18.1.1:0" }\n`, 'join.listen', 'between 1 and 65535'],
    [`${PROXY}join: { listn: "198.18.1.1:7443" }\n`, 'join.listn', 'did you mean "listen"'],
    [`${PROXY}join: {}\n`, 'join.listen', 'is required'],
    [`name: h1\nprivateKey: "${KEY}"\njoin: { listen: "198.18.0.1:7443" }\n`, 'join', 'only the Proxy listens for joins'],
    [`name: proxy\nrole: proxy\njoin: { listen: "198.18.1.1:7443" }\n`, 'privateKey', 'is required with a join listener'],
    [`${PROXY}api: { tokens: [{ name: join, token: "0123456789abcdef0123" }] }\n`, 'api.tokens[0].name', 'choose another'],
  ])('refuses %j at %s', (text, keyPath, problem) => {
    const err = problemOf(text);
    expect(err.keyPath).toBe(keyPath);
    expect(err.problem).toContain(problem);
  });
});
