import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../switch/config/load-config.js';

function reject(text: string): ConfigError {
  try {
    parseConfig(text, 'host.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('parseConfig', () => {
  it('fills defaults for a minimal config', () => {
    const c = parseConfig('name: h1\nports:\n  - { name: tap0, type: tap }\n', 'host.yaml');
    expect(c).toMatchObject({
      name: 'h1',
      role: 'host',
      api: { listen: '127.0.0.1:7000' },
      switch: { macIdleTimeS: 300, macMaxEntries: 8192, maxFrameBytes: 1518 },
      ports: [{ type: 'tap', name: 'tap0', mtu: 1500 }],
    });
  });

  it('reads capture ports', () => {
    const c = parseConfig('name: h1\nports:\n  - { name: c0, type: capture, interface: veth0 }\n', 'x');
    expect(c.ports[0]).toEqual({ type: 'capture', name: 'c0', interface: 'veth0', promiscuous: true });
  });

  it.each([
    ['', '', 'is empty'],
    ['role: host\n', 'name', 'is required'],
    ['name: H1\n', 'name', 'must be lower-case'],
    ['name: h1\nprots: []\n', 'prots', 'did you mean "ports"'],
    ['name: h1\nports:\n  - { name: tap0, type: tun }\n', 'ports[0].type', 'must be one of tap, capture'],
    ['name: h1\nports:\n  - { name: a-very-long-interface, type: tap }\n', 'ports[0].name', '1 to 15 characters'],
    ['name: h1\nports:\n  - { name: t, type: tap }\n  - { name: t, type: tap }\n', 'ports[1].name', 'already the name of ports[0]'],
    ['name: h1\nports:\n  - { name: t, type: tap, mtu: 10 }\n', 'ports[0].mtu', 'between 68 and'],
    ['name: h1\nports:\n  - { name: t, type: capture }\n', 'ports[0].interface', 'is required'],
    ['name: h1\nports: tap0\n', 'ports', 'must be a list'],
    ['name: h1\napi: { listen: "0.0.0.0:99999" }\n', 'api.listen', 'between 1 and 65535'],
    ['name: h1\napi: { listen: "nowhere" }\n', 'api.listen', 'ADDRESS:PORT'],
    ['name: h1\nswitch: { macIdleTimeS: "5m" }\n', 'switch.macIdleTimeS', 'must be an integer'],
  ])('rejects %j at %s', (text, keyPath, problem) => {
    const err = reject(text);
    expect(err.code).toBe('config-invalid');
    expect(err.keyPath).toBe(keyPath);
    expect(err.problem).toContain(problem);
  });

  it('points at the line and column of the bad value', () => {
    const err = reject('name: h1\nports:\n  - name: tap0\n    type: tun\n');
    expect([err.line, err.column]).toEqual([4, 11]);
    expect(err.message).toBe('host.yaml:4:11: ports[0].type: must be one of tap, capture (found "tun")');
  });

  it('reports YAML syntax errors with a position', () => {
    const err = reject('name: h1\nports: [\n');
    expect(err.line).toBeGreaterThan(0);
    expect(err.problem).toMatch(/^YAML syntax/);
  });
});
