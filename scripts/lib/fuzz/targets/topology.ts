/**
 * The topology language → what POST /v1/topology/diff|apply run before anything else (api/http/topology-routes.ts
 * → switch/topology/reconcile.ts planTopology): parseTopology (lexer + parser), then assertValidTopology
 * (check.ts); and for a valid description, formatTopology must print text that parses back to the same
 * canonical overlay (format.ts promises `show` output can be edited and applied).
 *
 * Oracle: an Overlay, or TopologySyntaxError / TopologyInvalidError with line and column ≥ 1 inside the text;
 * anything else is a crash.
 */
import { withoutPositions } from '../../../../switch/topology/ast.js';
import { assertValidTopology } from '../../../../switch/topology/check.js';
import { TopologyInvalidError, TopologySyntaxError } from '../../../../switch/topology/errors.js';
import { canonicalTopology, formatTopology } from '../../../../switch/topology/format.js';
import { parseTopology } from '../../../../switch/topology/parser.js';
import { mutateText } from '../mutate.js';
import type { Rng } from '../rng.js';
import { check, textCodec, type FuzzTarget } from '../target.js';

const KEYS = ['m27sy1It46pvVHoaX1hlMHuX+8oGyVVdoo8y03MUTwg=', 'YBfJ2ZBrWNszeoqJKE0/yOK7xD5IKKzvu8S5J1tN3mI=', 'uHl1ZTHlRCSwE0X7Lmo4eXPLaoKBwuoWeDHGhi+BSkc='];
const SEED = `# the star and one fast path
host proxy key "${KEYS[0]}" endpoint 198.18.0.1:51820 proxy
host h1 key "${KEYS[1]}" endpoint [2001:db8::1]:51820
host h2 key "${KEYS[2]}"
link proxy h1
link proxy h2 transport tcp
link h1 h2 transport udp   # fast path
rule h1 src 02:00:00:00:00:01 dst 02:00:00:00:00:02 via h2 priority 10
rule h1 src any dst none via proxy
rule h2 src any dst any via tap0 priority -3
`;
const SEEDS = [SEED, `host p key "${KEYS[0]}" proxy\n`, 'link a b\n', 'rule h1 src any dst none via proxy\n'];

const WORDS = ['host', 'link', 'rule', 'key', 'endpoint', 'proxy', 'transport', 'udp', 'tcp', 'auto', 'src', 'dst', 'via', 'any', 'none', 'priority'];
const NAMES = ['proxy', 'h1', 'h2', 'h3', 'a-b', 'tap0', 'H1', '-x', 'a'.repeat(33)];
const VALUES = ['02:00:00:00:00:01', '02:00:00:00:00:02', 'FF:FF:FF:FF:FF:FF', '02:00:00:00:00', '198.18.0.1:51820', '256.1.1.1:1', '1.2.3.4:0', '1.2.3.4:65536', '[::1]:51820', '[:]:1', '[]:1', '10', '-10', '1000000', '1000001', '-0', '0x10'];
const PUNCT = [' ', ' ', ' ', '\t', '\n', '\r\n', '#', '"', `"${KEYS[1]}"`, '""', '=', '+', '/', '[', ']', ':', '.', '-', '!', '{', '\u00e9', '\ud800'];
const DICTIONARY = [...WORDS, ...NAMES, ...VALUES, ...PUNCT];

function line(rng: Rng): string {
  const name = () => rng.pick(NAMES.slice(0, 5));
  const mac = () => rng.pick(['any', 'none', '02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03']);
  switch (rng.int(4)) {
    case 0:
      return `host ${name()} key "${rng.pick(KEYS)}"${rng.bool(0.5) ? ` endpoint ${rng.pick(VALUES.slice(4, 11))}` : ''}${rng.bool(0.3) ? ' proxy' : ''}`;
    case 1:
      return `link ${name()} ${name()}${rng.bool(0.4) ? ` transport ${rng.pick(['udp', 'tcp', 'auto'])}` : ''}`;
    case 2:
      return `rule ${name()} src ${mac()} dst ${mac()} via ${rng.pick([...NAMES.slice(0, 5), 'tap0', 'eth.1'])}${rng.bool(0.4) ? ` priority ${rng.pick(VALUES.slice(11))}` : ''}`;
    default:
      return rng.bool(0.5) ? `# ${rng.pick(WORDS)}` : '';
  }
}

/** Token soup: grammar words, names, values and punctuation in random order. */
function soup(rng: Rng): string {
  let text = '';
  const n = rng.size(60);
  for (let i = 0; i < n; i++) text += rng.pick(DICTIONARY) + (rng.bool(0.7) ? ' ' : '');
  return text;
}

function generate(rng: Rng): string {
  const r = rng.float();
  if (r < 0.35) return mutateText(rng, rng.pick(SEEDS), { dictionary: DICTIONARY, others: SEEDS });
  if (r < 0.7) return Array.from({ length: 1 + rng.size(16) }, () => line(rng)).join(rng.bool(0.9) ? '\n' : '\r\n') + (rng.bool(0.8) ? '\n' : '');
  if (r < 0.85) return soup(rng);
  return mutateText(rng, Array.from({ length: 1 + rng.size(8) }, () => line(rng)).join('\n'), { dictionary: DICTIONARY, maxMutations: 3 });
}

/** Line lengths of a text (computed once per input: a TopologyInvalidError may list thousands of problems). */
function lineLengths(text: string): number[] {
  return text.split('\n').map((l) => l.length);
}

function positionOk(lines: number[], line: number, column: number): boolean {
  return Number.isInteger(line) && Number.isInteger(column) && line >= 1 && column >= 1 && line <= lines.length && column <= (lines[line - 1] ?? 0) + 1;
}

export function topologyTarget(): FuzzTarget<string> {
  let current = '';
  return {
    name: 'topology',
    summary: 'parseTopology + assertValidTopology (what diff/apply run first), and format → parse round trip: an Overlay or a topology error at line:col',
    generate,
    execute(text) {
      current = text;
      const overlay = parseTopology(text, 'fuzz.topo');
      assertValidTopology(overlay, 'fuzz.topo');
      const again = parseTopology(formatTopology(overlay), 'formatted');
      check(JSON.stringify(withoutPositions(canonicalTopology(again))) === JSON.stringify(withoutPositions(canonicalTopology(overlay))), 'formatTopology output parses to another overlay');
      return 'ok';
    },
    classify(error) {
      if (error instanceof TopologySyntaxError) return positionOk(lineLengths(current), error.line, error.column) ? 'TopologySyntaxError' : undefined;
      if (error instanceof TopologyInvalidError) {
        const lines = lineLengths(current);
        return error.problems.length > 0 && error.problems.every((p) => positionOk(lines, p.line, p.column)) ? 'TopologyInvalidError' : undefined;
      }
      return undefined;
    },
    ...textCodec,
    worstCases: [
      { name: 'one long word', make: (n) => 'h'.repeat(n) },
      { name: 'long IPv6 endpoint', make: (n) => `host h1 key "${KEYS[0]}" endpoint [${':'.repeat(Math.max(1, n - 40))}` },
      { name: 'unclosed string', make: (n) => `host h1 key "${'a'.repeat(n)}` },
      { name: 'newlines', make: (n) => '\n'.repeat(n) },
      { name: 'comment', make: (n) => '#'.repeat(n) },
      { name: 'many hosts', make: (n) => Array.from({ length: Math.max(1, Math.floor(n / 60)) }, (_, i) => `host h${i} key "${KEYS[0]}"`).join('\n') },
      {
        name: 'many rules',
        make: (n) =>
          `host p key "${KEYS[0]}" proxy\n` +
          Array.from({ length: Math.max(1, Math.floor(n / 64)) }, (_, i) => `rule p src any dst 02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')} via tap${i % 7}`).join('\n'),
      },
    ],
  };
}
