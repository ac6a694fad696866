/**
 * Parser of the overlay description language: hand-written recursive
 * descent over the lexer's tokens, one statement per line (grammar in
 * docs/topology-language.md). It stops at the first syntax error with
 * "file:line:column: expected X, found Y". Shapes are syntax (a name, a MAC,
 * an endpoint, an integer in range); meaning — unknown hosts, duplicates,
 * keys that do not decode, the proxy — is check.ts's job.
 *
 * Linear: the lexer hands out one token at a time under its length caps
 * (lexer.ts), and every shape check is a regular expression without nested
 * or adjacent unbounded repetition, or a scan (the IPv6 endpoint).
 */
import type { HostDecl, LinkDecl, LinkTransport, Overlay, PortDecl, RuleDecl, SourcePosition } from './ast.js';
import { TopologySyntaxError } from './errors.js';
import { describeToken, Lexer, type Token } from './lexer.js';

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const NAME_TEXT = 'a name (lower-case letters, digits and "-", at most 32 characters)';
const PORT_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,64}$/;
/** A port statement's names: Linux interface names (IFNAMSIZ: 15), in the characters `via` takes. */
export const INTERFACE_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$/;
const INTERFACE_TEXT = 'an interface name (letters, digits, "_", "." and "-", at most 15 characters)';
const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const IPV4_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;
/** After the closing bracket of an IPv6 endpoint. */
const PORT_SUFFIX = /^\]:(\d{1,5})$/;
const IPV6_TEXT = /^[0-9a-fA-F:.]+$/;
export const MAX_PRIORITY = 1_000_000;

export function parseTopology(source: string, file = 'topology'): Overlay {
  return new Parser(new Lexer(source, file), file).description();
}

class Parser {
  constructor(
    private readonly lexer: Lexer,
    private readonly file: string,
  ) {}

  description(): Overlay {
    const overlay: Overlay = { hosts: [], links: [], rules: [] };
    for (;;) {
      const token = this.next();
      if (token.kind === 'eof') return overlay;
      if (token.kind === 'newline') continue;
      if (token.kind === 'word' && token.text === 'host') overlay.hosts.push(this.host(token));
      else if (token.kind === 'word' && token.text === 'link') overlay.links.push(this.link(token));
      else if (token.kind === 'word' && token.text === 'rule') overlay.rules.push(this.rule(token));
      else if (token.kind === 'word' && token.text === 'port') (overlay.ports ??= []).push(this.port(token));
      else this.fail(token, '"host", "link", "rule", "port" or a # comment');
      this.endOfStatement();
    }
  }

  private host(start: Token): HostDecl {
    const name = this.name();
    this.keyword('key');
    const key = this.next();
    if (key.kind !== 'string') this.fail(key, 'the public key as a quoted base64 string');
    const host: HostDecl = { name, publicKey: key.text, isProxy: false, at: at(start) };
    const left = ['endpoint', 'proxy'];
    for (let option = this.option(left); option !== undefined; option = this.option(left)) {
      if (option === 'proxy') host.isProxy = true;
      else host.endpoint = this.endpoint();
    }
    return host;
  }

  private link(start: Token): LinkDecl {
    const a = this.name();
    const b = this.name();
    const link: LinkDecl = { a, b, transport: 'auto', at: at(start) };
    const left = ['transport'];
    while (this.option(left) !== undefined) {
      const t = this.next();
      if (t.kind !== 'word' || (t.text !== 'udp' && t.text !== 'tcp' && t.text !== 'auto')) this.fail(t, '"udp", "tcp" or "auto"');
      link.transport = t.text as LinkTransport;
    }
    return link;
  }

  private rule(start: Token): RuleDecl {
    const host = this.name();
    this.keyword('src');
    const src = this.mac(['any']);
    this.keyword('dst');
    const dst = this.mac(['any', 'none']);
    this.keyword('via');
    const via = this.next();
    if (via.kind !== 'word' || !PORT_PATTERN.test(via.text)) this.fail(via, 'a link (the other host\'s name) or a port name');
    const rule: RuleDecl = { host, src, dst, via: via.text, priority: 0, at: at(start) };
    const left = ['priority'];
    while (this.option(left) !== undefined) {
      const p = this.next();
      if (p.kind !== 'word' || !/^-?\d{1,7}$/.test(p.text) || Math.abs(Number(p.text)) > MAX_PRIORITY) {
        this.fail(p, `an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
      }
      rule.priority = Number(p.text) || 0; // "-0" is 0
    }
    return rule;
  }

  private port(start: Token): PortDecl {
    const host = this.name();
    const name = this.interfaceName();
    const type = this.next();
    if (type.kind !== 'word' || (type.text !== 'tap' && type.text !== 'capture')) this.fail(type, '"tap" or "capture"');
    if (type.text === 'tap') return { host, name, type: 'tap', at: at(start) };
    return { host, name, type: 'capture', interface: this.interfaceName(), at: at(start) };
  }

  private interfaceName(): string {
    const token = this.next();
    if (token.kind !== 'word' || !INTERFACE_PATTERN.test(token.text)) this.fail(token, INTERFACE_TEXT);
    return token.text;
  }

  /**
   * Optional clauses in any order, each at most once: reads the next keyword of `left` (and takes it out of
   * `left`), or undefined at the end of the statement.
   */
  private option(left: string[]): string | undefined {
    const token = this.peek();
    if (token.kind === 'newline' || token.kind === 'eof') return undefined;
    if (token.kind !== 'word' || !left.includes(token.text)) this.fail(token, [...left.map((w) => `"${w}"`), 'the end of the line'].join(', ').replace(/, ([^,]*)$/, ' or $1'));
    this.lexer.next();
    left.splice(left.indexOf(token.text), 1);
    return token.text;
  }

  private name(): string {
    const token = this.next();
    if (token.kind !== 'word' || !NAME_PATTERN.test(token.text)) this.fail(token, NAME_TEXT);
    return token.text;
  }

  private mac(words: readonly string[]): string {
    const token = this.next();
    const lower = token.text.toLowerCase();
    if (token.kind === 'word' && (words.includes(token.text) || MAC_PATTERN.test(token.text))) return lower;
    return this.fail(token, `a MAC address (like 02:00:c6:13:01:01) or ${words.map((w) => `"${w}"`).join(' or ')}`);
  }

  private endpoint(): string {
    const token = this.next();
    const port = token.kind === 'word' ? endpointPort(token.text) : undefined;
    if (port === undefined || !(port >= 1 && port <= 65535)) this.fail(token, 'an endpoint "IP:PORT" (like 198.18.0.1:51820 or [::1]:51820)');
    return token.text;
  }

  private keyword(word: string): void {
    const token = this.next();
    if (token.kind !== 'word' || token.text !== word) this.fail(token, `"${word}"`);
  }

  private endOfStatement(): void {
    const token = this.peek();
    if (token.kind !== 'newline' && token.kind !== 'eof') this.fail(token, 'the end of the line');
  }

  private next(): Token {
    return this.lexer.next();
  }

  private peek(): Token {
    return this.lexer.peek();
  }

  private fail(token: Token, expected: string): never {
    throw new TopologySyntaxError(this.file, token.line, token.column, describeToken(token), expected);
  }
}

/**
 * The port of "a.b.c.d:port" (octets ≤ 255) or "[v6]:port" (hex digits, ":" and "." with at least one ":"), or
 * undefined. One pass: the old single regular expression for IPv6 backtracked quadratically on "[::::…".
 */
function endpointPort(text: string): number | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const address = text.slice(1, close);
    if (!IPV6_TEXT.test(address) || !address.includes(':')) return undefined;
    const port = PORT_SUFFIX.exec(text.slice(close));
    return port ? Number(port[1]) : undefined;
  }
  const v4 = IPV4_PORT.exec(text);
  if (!v4 || !v4.slice(1, 5).every((o) => Number(o) <= 255)) return undefined;
  return Number(v4[5]);
}

function at(token: Token): SourcePosition {
  return { line: token.line, column: token.column };
}
