import { describe, expect, it } from 'vitest';
import { withoutPositions, type Overlay } from '../../../switch/topology/ast.js';
import { toDot } from '../../../switch/topology/dot.js';
import { canonicalTopology, formatTopology } from '../../../switch/topology/format.js';
import { parseTopology } from '../../../switch/topology/parser.js';
import { KEYS, STAR, key } from './fixtures.js';

describe('formatTopology', () => {
  it('prints the canonical text: proxy first, sorted, defaults left out', () => {
    expect(formatTopology(parseTopology(STAR))).toBe(`host proxy key "${KEYS.proxy}" endpoint 198.18.1.1:51820 proxy
host h1 key "${KEYS.h1}" endpoint 198.18.0.1:51820
host h2 key "${KEYS.h2}" endpoint 198.18.0.2:51820
host h3 key "${KEYS.h3}" endpoint 198.18.0.3:51820

link h1 h2 transport tcp
link h1 proxy
link h2 proxy
link h3 proxy transport udp

rule proxy src 02:00:c6:13:01:01 dst any via h1
rule h1 src any dst 02:00:c6:13:02:01 via h2 priority 10
rule h2 src any dst 02:00:c6:13:01:01 via h1 priority 10
rule h3 src any dst none via vm3
`);
  });

  it('round-trips: parse(format(x)) is canonical(x), and format is a fixed point', () => {
    const x = parseTopology(STAR);
    const text = formatTopology(x);
    expect(withoutPositions(parseTopology(text))).toEqual(withoutPositions(canonicalTopology(x)));
    expect(formatTopology(parseTopology(text))).toBe(text);
  });

  it('prints mentioned ports after the links, by host as the hosts, then name; and round-trips them', () => {
    const x = parseTopology(`${STAR}\nport h2 tap-h2v1 tap\nport h1 qvm1 capture vnet7\nport proxy cap0 capture eth1\nport h1 a0 tap`);
    const text = formatTopology(x);
    expect(text).toContain('link h3 proxy transport udp\n\nport proxy cap0 capture eth1\nport h1 a0 tap\nport h1 qvm1 capture vnet7\nport h2 tap-h2v1 tap\n\nrule proxy');
    expect(withoutPositions(parseTopology(text))).toEqual(withoutPositions(canonicalTopology(x)));
    expect(formatTopology(parseTopology(text))).toBe(text);
  });

  it('round-trips seeded random overlays', () => {
    let seed = 42;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const macs = ['any', '02:00:00:00:00:01', '02:00:00:00:00:02', 'ff:ff:ff:ff:ff:ff'];
    for (let round = 0; round < 50; round++) {
      const names = ['proxy', ...Array.from({ length: 1 + rand(5) }, (_, i) => `h${i + 1}`)];
      const overlay: Overlay = {
        hosts: names.map((name, i) => ({ name, publicKey: key(String.fromCharCode(65 + i)), isProxy: i === 0, ...(rand(2) ? { endpoint: `198.18.0.${i + 1}:${51820 + i}` } : {}) })),
        links: names.slice(1).map((n) => ({ a: rand(2) ? n : 'proxy', b: 'x', transport: (['udp', 'tcp', 'auto'] as const)[rand(3)]! })).map((l, i) => ({ ...l, b: l.a === 'proxy' ? names[i + 1]! : 'proxy' })),
        rules: Array.from({ length: rand(6) }, () => ({
          host: names[rand(names.length)]!,
          src: macs[rand(3)]!,
          dst: [...macs, 'none'][rand(5)]!,
          via: rand(2) ? 'proxy' : `vm${rand(3)}`,
          priority: rand(3) === 0 ? rand(2000) - 1000 : 0,
        })),
        ...(rand(2) ? { ports: Array.from({ length: 1 + rand(3) }, (_, i) => ({ host: names[rand(names.length)]!, name: `vm${i}`, ...(rand(2) ? { type: 'tap' as const } : { type: 'capture' as const, interface: `vnet${rand(9)}` }) })) } : {}),
      };
      const text = formatTopology(overlay);
      expect(withoutPositions(parseTopology(text))).toEqual(withoutPositions(canonicalTopology(overlay)));
    }
  });

  it('notes owners of rules apply does not own, as a comment that parses away', () => {
    const x = parseTopology(STAR);
    x.rules[3]!.owner = 'star';
    x.rules[0]!.owner = 'proxy:topology';
    const text = formatTopology(x);
    expect(text).toContain('rule h3 src any dst none via vm3  # owner: star\n');
    expect(text).toContain('rule h1 src any dst 02:00:c6:13:02:01 via h2 priority 10\n');
    expect(() => parseTopology(text)).not.toThrow();
  });
});

describe('toDot', () => {
  it('draws hosts, links and rules via hosts, stable for a given overlay', () => {
    const dot = toDot(parseTopology(STAR));
    expect(dot).toMatch(/^digraph "vswitch overlay" \{/);
    expect(dot).toContain('"proxy" [label="proxy\\n198.18.1.1:51820", shape=doublecircle];');
    expect(dot).toContain('"h3" [label="h3\\n198.18.0.3:51820\\nany → none → vm3"];');
    expect(dot).toContain('"h1" -> "h2" [dir=none, penwidth=2, label="tcp"];');
    expect(dot).toContain('"h1" -> "h2" [style=dashed, fontsize=9, label="any → 02:00:c6:13:02:01 (10)"];');
    expect(toDot(parseTopology(formatTopology(parseTopology(STAR))))).toBe(dot);
  });
});
