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

  it('reads a tap port\'s offloads (off unless set)', () => {
    const c = parseConfig('name: h1\nports:\n  - { name: t0, type: tap, offloads: true }\n  - { name: t1, type: tap }\n', 'x');
    expect(c.ports).toEqual([
      { type: 'tap', name: 't0', mtu: 1500, offloads: true },
      { type: 'tap', name: 't1', mtu: 1500 },
    ]);
    expect(reject('name: h1\nports:\n  - { name: t, type: tap, offloads: yes please }\n').keyPath).toBe('ports[0].offloads');
    expect(reject('name: h1\nports:\n  - { name: c, type: capture, interface: e, offloads: true }\n').keyPath).toBe('ports[0].offloads');
  });

  it('reads capture ports', () => {
    const c = parseConfig('name: h1\nports:\n  - { name: c0, type: capture, interface: veth0 }\n', 'x');
    expect(c.ports[0]).toEqual({ type: 'capture', name: 'c0', interface: 'veth0', promiscuous: true });
  });

  it.each([
    ['', '', 'is empty'],
    ['role: host\n', 'name', 'is required'],
    ['name: H1\n', 'name', 'must be lower-case'],
    ['name: h1\nprts: []\n', 'prts', 'did you mean "ports"'],
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

  it.each(['', '# only a comment\n', '\n\n'])('points at 1:1 when the file has no content (%j)', (text) => {
    const err = reject(text);
    expect([err.line, err.column]).toEqual([1, 1]);
    expect(err.message).toBe('host.yaml:1:1: the file is empty; it needs at least "name"');
  });

  it('reports YAML syntax errors with a position', () => {
    const err = reject('name: h1\nports: [\n');
    expect(err.line).toBeGreaterThan(0);
    expect(err.problem).toMatch(/^YAML syntax/);
  });
});

describe('parseConfig: keys, listeners and peers', () => {
  const key = 'm27sy1It46pvVHoaX1hlMHuX+8oGyVVdoo8y03MUTwg=';
  const other = 'YBfJ2ZBrWNszeoqJKE0/yOK7xD5IKKzvu8S5J1tN3mI=';

  it('reads peers with defaults (auto transport, TCP on the UDP endpoint)', () => {
    const c = parseConfig(
      `name: h1\nprivateKey: ${key}\nlisten: { tcp: "0.0.0.0:443" }\npeers:\n  - { name: h2, publicKey: "${other}", endpoint: "198.18.0.2:51820" }\n`,
      'x',
    );
    expect(c.listen).toEqual({ udp: { host: '0.0.0.0', port: 51820 }, tcp: { host: '0.0.0.0', port: 443 } });
    expect(c.peers[0]).toMatchObject({
      name: 'h2',
      transport: 'auto',
      endpoint: { host: '198.18.0.2', port: 51820 },
      tcpEndpoint: { host: '198.18.0.2', port: 51820 },
    });
    expect(c.privateKey).toHaveLength(32);
  });

  it.each([
    [`name: h1\npeers:\n  - { name: h2, publicKey: "${other}" }\n`, 'privateKey', 'is required when there are peers'],
    [`name: h1\nprivateKey: nope\n`, 'privateKey', '32-byte key in base64'],
    [`name: h1\nprivateKey: ${key}\npeers:\n  - { name: h2, publicKey: "${other}", endpoint: "host.example:1" }\n`, 'peers[0].endpoint', 'numeric IP'],
    [`name: h1\nprivateKey: ${key}\npeers:\n  - { name: h2, publicKey: "${other}", transport: quic }\n`, 'peers[0].transport', 'one of udp, tcp, auto'],
    [`name: h1\nprivateKey: ${key}\npeers:\n  - { name: h2, publicKey: "${other}" }\n  - { name: h3, publicKey: "${other}" }\n`, 'peers[1].publicKey', 'already the key of peers[0]'],
    [`name: h1\nlisten: { udp: "0.0.0.0:0" }\n`, 'listen.udp', 'between 1 and 65535'],
    [`name: h1\nprivateKeyFile: /nonexistent/key\n`, 'privateKeyFile', 'cannot read'],
  ])('rejects %j at %s', (text, keyPath, problem) => {
    const err = reject(text);
    expect(err.keyPath).toBe(keyPath);
    expect(err.problem).toContain(problem);
  });
});

describe('parseConfig: capture ports', () => {
  it('reads a BPF program in tcpdump -dd form', () => {
    const c = parseConfig('name: h1\nports:\n  - { name: c0, type: capture, interface: v0, bpf: [[40, 0, 0, 12], [21, 0, 1, 2054], [6, 0, 0, 262144], [6, 0, 0, 0]] }\n', 'x');
    expect(c.ports[0]).toMatchObject({ bpf: [{ code: 40, jt: 0, jf: 0, k: 12 }, { code: 21, jt: 0, jf: 1, k: 2054 }, { code: 6, jt: 0, jf: 0, k: 262144 }, { code: 6, jt: 0, jf: 0, k: 0 }] });
  });

  it('rejects a malformed BPF instruction where it is', () => {
    const err = reject('name: h1\nports:\n  - { name: c0, type: capture, interface: v0, bpf: [[40, 0, 0]] }\n');
    expect(err.keyPath).toBe('ports[0].bpf[0]');
  });
});

describe('parseConfig: api.tokens', () => {
  const TOKEN = 'abcdefghijklmnop-1234';

  it('defaults to no tokens on loopback', () => {
    expect(parseConfig('name: h1\n', 'x').api).toEqual({ listen: '127.0.0.1:7000', tokens: [] });
  });

  it('reads tokens, read-only defaulting to false', () => {
    const c = parseConfig(`name: h1\napi:\n  listen: "0.0.0.0:7000"\n  tokens:\n    - { name: ops, token: ${TOKEN} }\n    - { name: view, token: ${TOKEN}x, readOnly: true }\n`, 'x');
    expect(c.api.tokens).toEqual([
      { name: 'ops', token: TOKEN, readOnly: false },
      { name: 'view', token: `${TOKEN}x`, readOnly: true },
    ]);
  });

  it.each(['127.0.0.1:7000', '127.3.4.5:80', 'localhost:7000', '[::1]:7000', 'unix:/run/vswitch.sock'])('%s needs no token', (listen) => {
    expect(parseConfig(`name: h1\napi: { listen: "${listen}" }\n`, 'x').api.tokens).toEqual([]);
  });

  it.each(['0.0.0.0:7000', '198.18.0.1:7000', '[::]:7000'])('%s without a token is refused, naming api.tokens', (listen) => {
    const err = reject(`name: h1\napi: { listen: "${listen}" }\n`);
    expect(err).toMatchObject({ code: 'config-invalid', keyPath: 'api.tokens' });
  });

  it.each([
    [`api: { tokens: [{ name: ops }] }`, 'api.tokens[0].token'],
    [`api: { tokens: [{ name: ops, token: short }] }`, 'api.tokens[0].token'],
    [`api: { tokens: [{ name: ops, token: "has spaces in it 12345" }] }`, 'api.tokens[0].token'],
    [`api: { tokens: [{ name: Ops, token: ${TOKEN} }] }`, 'api.tokens[0].name'],
    [`api: { tokens: [{ name: a, token: ${TOKEN} }, { name: a, token: ${TOKEN}x }] }`, 'api.tokens[1].name'],
    [`api: { tokens: [{ name: a, token: ${TOKEN} }, { name: b, token: ${TOKEN} }] }`, 'api.tokens[1].token'],
    [`api: { tokens: [{ name: a, token: ${TOKEN}, readonly: true }] }`, 'api.tokens[0].readonly'],
    [`api: { tokens: [{ name: a, token: ${TOKEN}, readOnly: "yes" }] }`, 'api.tokens[0].readOnly'],
    [`api: { tokens: { name: a } }`, 'api.tokens'],
  ])('%s → ConfigError at %s', (yaml, keyPath) => {
    expect(reject(`name: h1\n${yaml}\n`)).toMatchObject({ code: 'config-invalid', keyPath });
  });
});

describe('parseConfig: 1 MiB values', () => {
  const MiB = 1 << 20;
  const bestOf3 = (text: string): number => {
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      try {
        parseConfig(text, 'big.yaml');
      } catch {
        // refused: what is measured is how long it took
      }
      best = Math.min(best, performance.now() - start);
    }
    return best;
  };

  it('refuses an unknown key of 1 MiB about as fast as YAML reads it (no edit distance over the whole key)', () => {
    // The baseline: the same 1 MiB as a value, refused by its pattern. The patterns of load-config.ts are linear
    // (anchored, no nested repetition): a 1 MiB value for each takes what YAML takes, 50-100 ms here.
    const baseline = bestOf3(`name: ${'x'.repeat(MiB)}\n`);
    const unknownKey = bestOf3(`name: a\n? ${'x'.repeat(MiB)}\n: 1\n`);
    // The old reader took ~400 ms on the key (8x the baseline), spent on its "did you mean" edit distance.
    expect(unknownKey).toBeLessThan(3 * baseline + 20);
  });

  it.each([
    ['an unknown key', `name: a\n? ${'x'.repeat(MiB)}\n: 1\n`],
    ['a name', `name: ${'a'.repeat(MiB)}\n`],
    ['a role', `name: a\nrole: "${'a'.repeat(MiB)}"\n`],
    ['an api listener', `name: a\napi: { listen: "[${':'.repeat(MiB)}" }\n`],
    ['a UDP listener', `name: a\nlisten: { udp: "${'1.'.repeat(MiB / 2)}" }\n`],
    ['a token', `name: a\napi: { listen: "127.0.0.1:1", tokens: [{ name: t, token: "${'a'.repeat(MiB)}" }] }\n`],
  ])('quotes at most a short piece of %s of 1 MiB in its message', (_what, text) => {
    expect(reject(text).message.length).toBeLessThan(400);
  });
});

describe('parseConfig: what the YAML library cannot take (found by scripts/fuzz)', () => {
  const plugin = (options: string) => `name: p\nrole: proxy\nplugins:\n  - name: p1\n    module: ./p.mjs\n    options: ${options}\n`;
  /** The fastest of 3 runs of `run`, in ms: times here are compared with each other, never with a fixed budget. */
  const fastestOf3 = (run: () => void): number => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      run();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  /** What YAML takes to read a plain value as long as `text`: the yardstick of "at once". */
  const baselineFor = (text: string): number => fastestOf3(() => parseConfig(`name: p\nrole: proxy\nlog: { level: info }\n# ${'x'.repeat(text.length)}\n`, 'x'));

  it.each([
    ['flow brackets', `name: h1\nvttif: ${'['.repeat(2000)}${']'.repeat(2000)}\n`, [2, 135]],
    ['unclosed flow brackets', `name: h1\nvttif: ${'{a: '.repeat(5000)}\n`, [2, 262]],
    ['"- " items on one line', '- '.repeat(30_000), [1, 257]],
    ['block indentation', `name: h1\nvttif:\n${Array.from({ length: 200 }, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')}\n`, [130, 130]],
  ])('refuses nesting deeper than 128 levels (%s) at once, with a position', (_what, text, [line, column]) => {
    const err = reject(text);
    // Was: a stack overflow inside the library after 100-300 ms; now refused in about the time a read takes.
    expect(fastestOf3(() => reject(text))).toBeLessThan(5 * baselineFor(text) + 20);
    expect(err.problem).toMatch(/^YAML: nested deeper than 128 levels/);
    expect([err.line, err.column]).toEqual([line, column]);
  });

  it('refuses a duplicate key at its place, in time linear in the keys (the library compared each with every earlier one)', () => {
    const keysOf = (n: number) => Array.from({ length: n }, (_, i) => `      k${i}: ${i}`).join('\n');
    const keys = keysOf(12_000);
    const c = parseConfig(plugin(`\n${keys}`), 'x');
    // 4x the keys: linear takes ~4x the time, the library's quadratic compare took 16x (72 million comparisons).
    const quarter = keysOf(3_000);
    expect(fastestOf3(() => parseConfig(plugin(`\n${keys}`), 'x'))).toBeLessThan(8 * fastestOf3(() => parseConfig(plugin(`\n${quarter}`), 'x')) + 20);
    expect(Object.keys(c.plugins[0]!.options)).toHaveLength(12_000);
    const err = reject('name: h1\nlog: { level: info }\nname: h2\n');
    expect(err.message).toBe('host.yaml:3:1: YAML syntax: Map keys must be unique');
    expect(reject('name: h1\nvttif: { 1: a, "1": b, 1: c }\n').column).toBe(24);
  });

  it('takes nesting up to the limit', () => {
    const c = parseConfig(plugin(`{ a: ${'['.repeat(100)}1${']'.repeat(100)} }`), 'x');
    let v: unknown = (c.plugins[0]!.options as { a: unknown }).a;
    for (let i = 0; i < 100; i++) v = (v as unknown[])[0];
    expect(v).toBe(1);
  });

  it('refuses more than 100 aliases before parsing (the library spent ~100 ms on 1000)', () => {
    const text = plugin(`{ a: &a [1], b: [${Array(1000).fill('*a').join(',')}] }`);
    const err = reject(text);
    expect(fastestOf3(() => reject(text))).toBeLessThan(5 * baselineFor(text) + 20);
    expect(err.problem).toBe('YAML: more than 100 aliases (*name); a config needs none');
    expect(err.line).toBe(6);
  });

  it("resolves aliases in a plugin's options (they came back as YAML Alias objects)", () => {
    const c = parseConfig(plugin('{ anchor: &x { k: 1 }, again: *x }'), 'x');
    const options = c.plugins[0]!.options as Record<string, unknown>;
    expect(options).toEqual({ anchor: { k: 1 }, again: { k: 1 } });
    expect(Object.getPrototypeOf(options['again'])).toBe(Object.prototype);
  });

  it('refuses an alias to no anchor in the options, at its place', () => {
    const err = reject(plugin('*nothing'));
    expect(err.keyPath).toBe('plugins[0].options');
    expect(err.problem).toMatch(/^YAML: .*nothing/);
    expect([err.line, err.column]).toEqual([6, 14]);
  });
});

describe('parseConfig: stateDir', () => {
  it('is absent by default (the daemon uses /var/lib/vswitch/NAME), absolute as given, relative to the config file', () => {
    expect(parseConfig('name: h1\n', '/etc/vswitch/h1.yaml').stateDir).toBeUndefined();
    expect(parseConfig('name: h1\nstateDir: /srv/vswitch/h1\n', '/etc/vswitch/h1.yaml').stateDir).toBe('/srv/vswitch/h1');
    expect(parseConfig('name: h1\nstateDir: state/h1\n', '/etc/vswitch/h1.yaml').stateDir).toBe('/etc/vswitch/state/h1');
    expect(() => parseConfig('name: h1\nstateDir: 7\n', 'h1.yaml')).toThrow(expect.objectContaining({ code: 'config-invalid', keyPath: 'stateDir' }));
  });
});
