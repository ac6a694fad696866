import { describe, expect, it } from 'vitest';
import { withoutPositions } from '../../../switch/topology/ast.js';
import { tokenize } from '../../../switch/topology/lexer.js';
import { parseTopology } from '../../../switch/topology/parser.js';

const KP = `${'P'.repeat(42)}A=`;
const K1 = `${'B'.repeat(42)}A=`;

describe('lexer', () => {
  it('drops comments, keeps newlines, and gives 1-based lines and columns', () => {
    const tokens = tokenize('# header\nhost  p key "K" # tail\n', 'f');
    expect(tokens.map((t) => [t.kind, t.text, t.line, t.column])).toEqual([
      ['newline', '', 1, 9],
      ['word', 'host', 2, 1],
      ['word', 'p', 2, 7],
      ['word', 'key', 2, 9],
      ['string', 'K', 2, 13],
      ['newline', '', 2, 23],
      ['eof', '', 3, 1],
    ]);
  });
});

describe('parser', () => {
  it('reads the language of the design: hosts, links, rules, comments, defaults', () => {
    const text = [
      '# the star',
      `host proxy key "${KP}" endpoint 198.18.1.1:51820 proxy   # centre`,
      `host h1 key "${K1}" endpoint [::1]:51820`,
      '',
      'link h1 proxy transport udp',
      'rule h1 src 02:00:C6:13:01:01 dst 02:00:c6:13:02:01 via proxy priority 10',
      'rule h1 src any dst none via tap0',
      'rule h1 src any dst any via proxy priority -3',
    ].join('\n');
    const overlay = parseTopology(text, 'star.vnet');
    expect(withoutPositions(overlay)).toEqual({
      hosts: [
        { name: 'proxy', publicKey: KP, endpoint: '198.18.1.1:51820', isProxy: true },
        { name: 'h1', publicKey: K1, endpoint: '[::1]:51820', isProxy: false },
      ],
      links: [{ a: 'h1', b: 'proxy', transport: 'udp' }],
      rules: [
        { host: 'h1', src: '02:00:c6:13:01:01', dst: '02:00:c6:13:02:01', via: 'proxy', priority: 10 },
        { host: 'h1', src: 'any', dst: 'none', via: 'tap0', priority: 0 },
        { host: 'h1', src: 'any', dst: 'any', via: 'proxy', priority: -3 },
      ],
    });
    expect(overlay.rules[1]!.at).toEqual({ line: 7, column: 1 });
  });

  it('takes optional clauses in any order', () => {
    const overlay = parseTopology(`host p key "${KP}" proxy endpoint 198.18.1.1:1`);
    expect(overlay.hosts[0]).toMatchObject({ isProxy: true, endpoint: '198.18.1.1:1' });
  });

  it('reads an empty description and one of only comments', () => {
    expect(parseTopology('')).toEqual({ hosts: [], links: [], rules: [] });
    expect(parseTopology('# nothing\n\n  # here\n')).toEqual({ hosts: [], links: [], rules: [] });
  });

  // The malformed corpus: each description and the exact message it must produce.
  const corpus: [string, string][] = [
    ['hosts proxy', 'bad.vnet:1:1: expected "host", "link", "rule" or a # comment, found "hosts"'],
    ['host Proxy key "x"', 'bad.vnet:1:6: expected a name (lower-case letters, digits and "-", at most 32 characters), found "Proxy"'],
    ['host proxy key x', 'bad.vnet:1:16: expected the public key as a quoted base64 string, found "x"'],
    ['host proxy "k"', 'bad.vnet:1:12: expected "key", found string "k"'],
    ['host proxy key "abc', 'bad.vnet:1:20: expected a closing " (strings end on the line they start), found end of file'],
    ['host proxy key "abc\nlink a b', 'bad.vnet:1:20: expected a closing " (strings end on the line they start), found end of line'],
    ['host proxy key "k" endpoint 198.18.1.1', 'bad.vnet:1:29: expected an endpoint "IP:PORT" (like 198.18.0.1:51820 or [::1]:51820), found "198.18.1.1"'],
    ['host proxy key "k" endpoint 300.1.1.1:5', 'bad.vnet:1:29: expected an endpoint "IP:PORT" (like 198.18.0.1:51820 or [::1]:51820), found "300.1.1.1:5"'],
    ['host proxy key "k" endpoint 198.18.1.1:70000', 'bad.vnet:1:29: expected an endpoint "IP:PORT" (like 198.18.0.1:51820 or [::1]:51820), found "198.18.1.1:70000"'],
    ['host proxy key "k" proxy proxy', 'bad.vnet:1:26: expected "endpoint" or the end of the line, found "proxy"'],
    ['host proxy key "k" proxy {', 'bad.vnet:1:26: expected a word, a "string", a # comment or the end of the line, found "{"'],
    ['host proxy key "k" color red', 'bad.vnet:1:20: expected "endpoint", "proxy" or the end of the line, found "color"'],
    ['link h1', 'bad.vnet:1:8: expected a name (lower-case letters, digits and "-", at most 32 characters), found end of file'],
    ['link h1\nlink h2 h3', 'bad.vnet:1:8: expected a name (lower-case letters, digits and "-", at most 32 characters), found end of line'],
    ['link h1 h2 transport quic', 'bad.vnet:1:22: expected "udp", "tcp" or "auto", found "quic"'],
    ['link h1 h2 transport', 'bad.vnet:1:21: expected "udp", "tcp" or "auto", found end of file'],
    ['rule h1 src 02:00:00:00:00 dst any via h2', 'bad.vnet:1:13: expected a MAC address (like 02:00:c6:13:01:01) or "any", found "02:00:00:00:00"'],
    ['rule h1 src none dst any via h2', 'bad.vnet:1:13: expected a MAC address (like 02:00:c6:13:01:01) or "any", found "none"'],
    ['rule h1 src any dst nowhere via h2', 'bad.vnet:1:21: expected a MAC address (like 02:00:c6:13:01:01) or "any" or "none", found "nowhere"'],
    ['rule h1 src any dst any h2', 'bad.vnet:1:25: expected "via", found "h2"'],
    ['rule h1 src any dst any via a/b', 'bad.vnet:1:29: expected a link (the other host\'s name) or a port name, found "a/b"'],
    ['rule h1 src any dst 02:00:00:00:00:01 via h2 priority high', 'bad.vnet:1:55: expected an integer from -1000000 to 1000000, found "high"'],
    ['rule h1 src any dst none via h2 priority 2000000', 'bad.vnet:1:42: expected an integer from -1000000 to 1000000, found "2000000"'],
    ['rule h1 src any dst none via h2 priority 1 priority 2', 'bad.vnet:1:44: expected the end of the line, found "priority"'],
    ['\n\n   link h1 h2 # ok\n  link h1 h2 extra', 'bad.vnet:4:14: expected "transport" or the end of the line, found "extra"'],
    ['host "h1"', 'bad.vnet:1:6: expected a name (lower-case letters, digits and "-", at most 32 characters), found string "h1"'],
  ];
  it.each(corpus)('refuses %j with the exact message', (text, message) => {
    let caught: unknown;
    try {
      parseTopology(text, 'bad.vnet');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'TopologySyntaxError', code: 'topology-syntax', file: 'bad.vnet' });
    expect((caught as Error).message).toBe(message);
  });

  it('carries line, column, found and expected as fields', () => {
    expect(() => parseTopology('link a\n  link b c d', 'x')).toThrow(expect.objectContaining({ line: 1, column: 7, found: 'end of line' }));
    expect(() => parseTopology('link a b c', 'x')).toThrow(expect.objectContaining({ line: 1, column: 10, found: '"c"', expected: '"transport" or the end of the line' }));
  });
});
