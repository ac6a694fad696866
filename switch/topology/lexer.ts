/**
 * Lexer of the overlay description language. The language is line-oriented:
 * one statement per line, so newlines are tokens. Everything else is a bare
 * word (names, keywords, MACs, endpoints, integers — the parser tells them
 * apart), a double-quoted string (keys; no escapes, no newlines inside), or a
 * comment from `#` to the end of the line (dropped). Columns count UTF-16
 * code units from 1, lines from 1.
 *
 * Linear and bounded, since a description may come from the API: tokens are
 * produced one at a time as the parser asks (no token array), every character
 * is looked at once, and there are caps — a description of at most
 * MAX_TOPOLOGY_CHARS (the API's maxLength), lines of at most MAX_LINE_CHARS,
 * words and strings of at most MAX_TOKEN_CHARS — each refused with
 * "file:line:column: expected …" at the first character over it.
 */
import { TopologySyntaxError } from './errors.js';

export type TokenKind = 'word' | 'string' | 'newline' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The word, or the string's contents without quotes; "" for newline/eof. */
  text: string;
  line: number;
  column: number;
}

/** 1 MiB of text, as openapi.yaml's maxLength for a description. */
export const MAX_TOPOLOGY_CHARS = 1 << 20;
/** The longest statement is a host with a 44-character key and an IPv6 endpoint: about 150 characters. */
export const MAX_LINE_CHARS = 1024;
/** The longest token is an IPv6 endpoint with an embedded IPv4 address and a port: 53 characters. */
export const MAX_TOKEN_CHARS = 128;

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const HASH = 0x23;
/** [A-Za-z0-9_.:\-[\]+/=], by character code. */
const WORD_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-[]+/=') WORD_CHAR[ch.charCodeAt(0)] = 1;
const isWordChar = (code: number): boolean => code < 128 && WORD_CHAR[code] === 1;
const isBlank = (code: number): boolean => code === 0x20 || code === 0x09 || code === 0x0d;

/** Tokens on demand: `next()` and `peek()`, the last one 'eof' (repeated). Throws TopologySyntaxError. */
export class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: Token | undefined;

  constructor(
    private readonly source: string,
    private readonly file: string,
  ) {
    if (source.length > MAX_TOPOLOGY_CHARS) {
      throw new TopologySyntaxError(file, 1, 1, String(source.length), `a description of at most ${MAX_TOPOLOGY_CHARS} characters`);
    }
  }

  next(): Token {
    const token = this.peeked ?? this.scan();
    this.peeked = undefined;
    return token;
  }

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  private scan(): Token {
    const s = this.source;
    const end = s.length;
    for (;;) {
      // Nothing on this line may lie past its cap: `limit` is the first index that would.
      const limit = this.lineStart + MAX_LINE_CHARS;
      const stop = Math.min(end, limit);
      let i = this.i;
      while (i < stop && isBlank(s.charCodeAt(i))) i++;
      if (i === limit && i < end && s.charCodeAt(i) !== NEWLINE) this.lineTooLong();
      this.i = i;
      const column = i - this.lineStart + 1;
      if (i >= end) return { kind: 'eof', text: '', line: this.line, column };
      const code = s.charCodeAt(i);
      if (code === NEWLINE) {
        const token: Token = { kind: 'newline', text: '', line: this.line, column };
        this.i = i + 1;
        this.line++;
        this.lineStart = this.i;
        return token;
      }
      if (code === HASH) {
        while (i < stop && s.charCodeAt(i) !== NEWLINE) i++;
        if (i === limit && i < end && s.charCodeAt(i) !== NEWLINE) this.lineTooLong();
        this.i = i;
        continue;
      }
      if (code === QUOTE) {
        let j = i + 1;
        while (j < stop && s.charCodeAt(j) !== QUOTE && s.charCodeAt(j) !== NEWLINE) j++;
        if (j === limit && j < end && s.charCodeAt(j) !== NEWLINE) this.lineTooLong();
        if (j >= end || s.charCodeAt(j) !== QUOTE) {
          throw new TopologySyntaxError(this.file, this.line, j - this.lineStart + 1, j < end ? 'end of line' : 'end of file', 'a closing " (strings end on the line they start)');
        }
        const length = j - i - 1;
        if (length > MAX_TOKEN_CHARS) {
          throw new TopologySyntaxError(this.file, this.line, column, `one of ${length}`, `a string of at most ${MAX_TOKEN_CHARS} characters`);
        }
        this.i = j + 1;
        return { kind: 'string', text: s.slice(i + 1, j), line: this.line, column };
      }
      if (isWordChar(code)) {
        let j = i + 1;
        while (j < stop && isWordChar(s.charCodeAt(j))) j++;
        if (j === limit && j < end && s.charCodeAt(j) !== NEWLINE) this.lineTooLong();
        const length = j - i;
        if (length > MAX_TOKEN_CHARS) {
          throw new TopologySyntaxError(this.file, this.line, column, `one of ${length}`, `a word of at most ${MAX_TOKEN_CHARS} characters`);
        }
        this.i = j;
        return { kind: 'word', text: s.slice(i, j), line: this.line, column };
      }
      throw new TopologySyntaxError(this.file, this.line, column, JSON.stringify(s[i]), 'a word, a "string", a # comment or the end of the line');
    }
  }

  private lineTooLong(): never {
    throw new TopologySyntaxError(this.file, this.line, MAX_LINE_CHARS + 1, 'a longer one', `a line of at most ${MAX_LINE_CHARS} characters`);
  }
}

/** Every token of `source`, the last one 'eof' (for tests and tools; the parser reads a Lexer). */
export function tokenize(source: string, file: string): Token[] {
  const lexer = new Lexer(source, file);
  const tokens: Token[] = [];
  for (;;) {
    const token = lexer.next();
    tokens.push(token);
    if (token.kind === 'eof') return tokens;
  }
}

/** How a token is named in "found …" of an error message. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'word':
      return `"${token.text}"`;
    case 'string':
      return `string "${token.text}"`;
    case 'newline':
      return 'end of line';
    case 'eof':
      return 'end of file';
  }
}
