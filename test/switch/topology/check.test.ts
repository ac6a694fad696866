import { describe, expect, it } from 'vitest';
import { assertValidTopology, checkTopology } from '../../../switch/topology/check.js';
import { formatProblem } from '../../../switch/topology/errors.js';
import { parseTopology } from '../../../switch/topology/parser.js';
import { KEYS, STAR, key } from './fixtures.js';

const messages = (text: string) => checkTopology(parseTopology(text, 'c.vnet'), 'c.vnet').problems.map(formatProblem);

describe('checkTopology', () => {
  it('accepts the star, warning that a via which names no host is taken as a port', () => {
    const { problems, warnings } = checkTopology(parseTopology(STAR, 's.vnet'), 's.vnet');
    expect(problems).toEqual([]);
    expect(warnings.map(formatProblem)).toEqual([
      's.vnet:13:1: rule on "h3" goes via "vm3", which is not a host: taken as a port of h3 (it must exist there for the rule to be used)',
    ]);
  });

  // The malformed-by-meaning corpus: each description and every message it must produce, in file order.
  const P = `host proxy key "${KEYS.proxy}" proxy`;
  const H1 = `host h1 key "${KEYS.h1}"`;
  const corpus: [string, string, string[]][] = [
    ['no proxy', H1, ['c.vnet:1:1: no host is marked "proxy": mark the star\'s centre (exactly one host)']],
    ['two proxies', `${P}\nhost p2 key "${KEYS.h2}" proxy\nlink p2 proxy`, ['c.vnet:2:1: host "p2" is a second proxy (the first is "proxy")']],
    ['duplicate host', `${P}\n${H1}\nhost h1 key "${KEYS.h2}"\nlink h1 proxy`, ['c.vnet:3:1: host "h1" is declared twice (first at 2:1)']],
    ['duplicate key', `${P}\n${H1}\nhost h2 key "${KEYS.h1}"\nlink h1 proxy\nlink h2 proxy`, ['c.vnet:3:1: host "h2" has the same key as host "h1"']],
    ['bad key', `${P}\nhost h1 key "short"\nlink h1 proxy`, ['c.vnet:2:1: host "h1": the key must be 32 bytes in base64 (44 characters, as `vswitch genkey | vswitch pubkey` prints)']],
    ['key not 32 bytes', `${P}\nhost h1 key "${key('B').replace('A=', 'B=')}"\nlink h1 proxy`, ['c.vnet:2:1: host "h1": the key must be 32 bytes in base64 (44 characters, as `vswitch genkey | vswitch pubkey` prints)']],
    ['unknown link host', `${P}\n${H1}\nlink h1 proxy\nlink h1 h9`, ['c.vnet:4:1: link names unknown host "h9"']],
    ['self link', `${P}\n${H1}\nlink h1 proxy\nlink h1 h1`, ['c.vnet:4:1: link joins "h1" to itself']],
    ['duplicate link, either order', `${P}\n${H1}\nlink h1 proxy\nlink proxy h1 transport tcp`, ['c.vnet:4:1: link proxy h1 is declared twice (first at 3:1)']],
    ['no star link', `${P}\n${H1}`, ['c.vnet:2:1: host "h1" has no link to the proxy "proxy" (the star backbone is required)']],
    ['rule on unknown host', `${P}\nrule h7 src any dst none via proxy`, ['c.vnet:2:1: rule is on unknown host "h7"']],
    [
      'rule via an unlinked host',
      `${P}\n${H1}\nhost h2 key "${KEYS.h2}"\nlink h1 proxy\nlink h2 proxy\nrule h1 src any dst any via h2`,
      ['c.vnet:6:1: rule on "h1" goes via host "h2", but there is no link h1 h2'],
    ],
    [
      'two rules with one (src, dst, priority)',
      `${P}\n${H1}\nlink h1 proxy\nrule h1 src any dst none via proxy\nrule h1 src ANY dst none via tap0`.replace('ANY', 'any'),
      ['c.vnet:5:1: rule on "h1" for src any dst none priority 0 is declared twice (first at 4:1)'],
    ],
    ['port on unknown host', `${P}\nport h9 qvm1 tap`, ['c.vnet:2:1: port is on unknown host "h9"']],
    ['port declared twice', `${P}\n${H1}\nlink h1 proxy\nport h1 qvm1 tap\nport h1 qvm1 capture qvm1`, ['c.vnet:5:1: port qvm1 on "h1" is declared twice (first at 4:1)']],
    ['port named as its link', `${P}\n${H1}\nlink h1 proxy\nport h1 proxy tap`, ['c.vnet:4:1: port proxy on "h1" has the name of its link to host "proxy": a port and a link cannot share a name']],
    [
      'several problems, all reported in file order',
      `${H1}\nlink h1 h2\nrule h2 src any dst any via h1`,
      ['c.vnet:1:1: no host is marked "proxy": mark the star\'s centre (exactly one host)', 'c.vnet:2:1: link names unknown host "h2"', 'c.vnet:3:1: rule is on unknown host "h2"'],
    ],
  ];
  it.each(corpus)('%s', (_name, text, expected) => {
    expect(messages(text)).toEqual(expected);
  });

  it('a rule via a described port is not warned about; via an undescribed one still is', () => {
    const text = `${P}\n${H1}\nlink h1 proxy\nport h1 qvm1 capture qvm1\nrule h1 src any dst 02:00:c6:13:01:09 via qvm1\nrule h1 src any dst 02:00:c6:13:01:08 via qvm2`;
    const { problems, warnings } = checkTopology(parseTopology(text, 'c.vnet'), 'c.vnet');
    expect(problems).toEqual([]);
    expect(warnings.map(formatProblem)).toEqual(['c.vnet:6:1: rule on "h1" goes via "qvm2", which is not a host: taken as a port of h1 (it must exist there for the rule to be used)']);
  });

  it('assertValidTopology throws TopologyInvalidError listing the problems', () => {
    let caught: unknown;
    try {
      assertValidTopology(parseTopology(H1, 'c.vnet'), 'c.vnet');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'TopologyInvalidError', code: 'topology-invalid' });
    expect((caught as { problems: unknown[] }).problems).toHaveLength(1);
  });
});
