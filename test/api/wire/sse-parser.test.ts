/**
 * The one text/event-stream parser (api/wire/sse-parser.ts), which the CLI's reader (api/wire/sse.ts) and the
 * dashboard (api/dashboard/client.ts) both use: the WHATWG rules, and the same events however the text is cut.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseParser as DashboardSseParser } from '../../../api/dashboard/client.js';
import { readEventStream } from '../../../api/wire/sse.js';
import { SseParser, type SseEvent } from '../../../api/wire/sse-parser.js';

/** All the events of `chunks` fed in order to one parser. */
function parse(...chunks: string[]): SseEvent[] {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
}

/** A stream with every feature: comments, CRLF, CR, multi-line data, ids, retry, a field with no colon. */
const STREAM =
  '\uFEFF: hello\r\n' +
  'event: snapshot\r\ndata: {"a":\r\ndata: 1}\r\nid: 7\r\n\r\n' +
  'data:no space\rdata:  two spaces\r\r' +
  'retry: 1500\nevent: log\ndata\n\n' +
  'event: ignored\n\n' + // no data: nothing is dispatched, and the type does not carry over
  'id\ndata: after a bare id\n\n' +
  'data: é and 💡\n\n' +
  'data: never ended';

const EXPECTED: SseEvent[] = [
  { event: 'snapshot', data: '{"a":\n1}', id: '7' },
  { event: 'message', data: 'no space\n two spaces', id: '7' },
  { event: 'log', data: '', id: '7' },
  { event: 'message', data: 'after a bare id', id: '' },
  { event: 'message', data: 'é and 💡', id: '' },
];

describe('SseParser', () => {
  it('parses a whole stream: BOM, comments, CRLF/CR/LF, multi-line data, ids that stay, retry, no-data events dropped, the unfinished one kept back', () => {
    const p = new SseParser();
    expect(p.push(STREAM)).toEqual(EXPECTED);
    expect(p.retryMs).toBe(1500);
    expect(p.lastEventId).toBe('');
    expect(p.push('\n\n')).toEqual([{ event: 'message', data: 'never ended', id: '' }]);
  });

  it('gives the same events whatever the chunk boundaries: every cut in two, every cut in three, one character at a time', () => {
    for (let i = 0; i <= STREAM.length; i++) expect(parse(STREAM.slice(0, i), STREAM.slice(i)), `cut at ${i}`).toEqual(EXPECTED);
    for (let i = 0; i <= STREAM.length; i += 3) {
      for (let j = i; j <= STREAM.length; j += 5) expect(parse(STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)), `cuts at ${i}, ${j}`).toEqual(EXPECTED);
    }
    expect(parse(...STREAM)).toEqual(EXPECTED);
  });

  it('a CRLF cut between two chunks is one line end, a lone CR at the end of a chunk waits for the next', () => {
    const p = new SseParser();
    expect(p.push('data: y\r')).toEqual([]);
    expect(p.push('\n\r')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: 'y', id: '' }]);
    expect(parse('data: a\r', '\r')).toEqual([]); // CR, then a CR that may still be the start of a CRLF
    expect(parse('data: a\r', '\r', 'x')).toEqual([{ event: 'message', data: 'a', id: '' }]);
  });

  it('ignores unknown fields, ids with NUL, retry values that are not all digits; a comment-only stream dispatches nothing', () => {
    expect(parse('foo: bar\nid: 1\u0000\ndata: x\nretry: 12a\n\n')).toEqual([{ event: 'message', data: 'x', id: '' }]);
    const p = new SseParser();
    expect(p.push(': keepalive\n\n: keepalive\n\nretry: 250\n\n')).toEqual([]);
    expect(p.retryMs).toBe(250);
    expect(parse('id: 3\n\ndata: later\n\n')).toEqual([{ event: 'message', data: 'later', id: '3' }]); // the id comes before the event that carries it
  });

  it('is the parser the dashboard uses (one class, not a copy)', () => {
    expect(DashboardSseParser).toBe(SseParser);
  });
});

describe('readEventStream (the CLI reader) over HTTP, through the same parser', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  it('reads events cut anywhere by the network (CRLF and characters split), with comments, and stops when told', async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Written 4 bytes at a time, so the reader sees lines, CRLFs and UTF-8 characters cut across chunks.
      const bytes = Buffer.from(STREAM.replace('data: never ended', 'event: stop\ndata: now\n\n'), 'utf8');
      let at = 0;
      const step = (): void => {
        if (at >= bytes.length) return;
        res.write(bytes.subarray(at, at + 4));
        at += 4;
        setImmediate(step);
      };
      step();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const seen: [string, string, string][] = [];
    await readEventStream({ base: `http://127.0.0.1:${port}` }, '/events', (name, data, event) => {
      seen.push([name, data, event.id]);
      return name !== 'stop';
    });
    expect(seen).toEqual([...EXPECTED.map((e) => [e.event, e.data, e.id]), ['stop', 'now', '']]);
  });
});
