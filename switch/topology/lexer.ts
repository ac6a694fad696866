/**
 * Lexer of the overlay description language. The language is line-oriented:
 * one statement per line, so newlines are tokens. Everything else is a bare
 * word (names, keywords, MACs, endpoints, integers — the parser tells them
 * apart), a double-quoted string (keys; no escapes, no newlines inside), or a
 * comment from `#` to the end of the line (dropped). Columns count UTF-16
 * code units from 1, lines from 1.
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

const WORD_CHAR = /[A-Za-z0-9_.:\-[\]+/=]/;

export function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    const column = i - lineStart + 1;
    if (ch === '\n') {
      tokens.push({ kind: 'newline', text: '', line, column });
      i++;
      line++;
      lineStart = i;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
    } else if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== '"' && source[j] !== '\n') j++;
      if (source[j] !== '"') {
        throw new TopologySyntaxError(file, line, j - lineStart + 1, j < source.length ? 'end of line' : 'end of file', 'a closing " (strings end on the line they start)');
      }
      tokens.push({ kind: 'string', text: source.slice(i + 1, j), line, column });
      i = j + 1;
    } else if (WORD_CHAR.test(ch)) {
      let j = i + 1;
      while (j < source.length && WORD_CHAR.test(source[j]!)) j++;
      tokens.push({ kind: 'word', text: source.slice(i, j), line, column });
      i = j;
    } else {
      throw new TopologySyntaxError(file, line, column, JSON.stringify(ch), 'a word, a "string", a # comment or the end of the line');
    }
  }
  tokens.push({ kind: 'eof', text: '', line, column: i - lineStart + 1 });
  return tokens;
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
