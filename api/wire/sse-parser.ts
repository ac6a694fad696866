/**
 * The one text/event-stream parser (WHATWG HTML, "Server-sent events", §9.2.6 "Interpreting an event
 * stream"), shared by the CLI's reader (api/wire/sse.ts, over node:http) and the dashboard's browser
 * script (api/dashboard/client.ts, over fetch). Pure and incremental: push decoded text in chunks cut
 * anywhere (inside a line, between the CR and the LF of a CRLF), get back the events completed so far.
 *
 *   - lines end with CRLF, LF or CR; one U+FEFF at the very start of the stream is dropped;
 *   - a line starting with ":" is a comment (keep-alives);
 *   - "field: value" (one space after the colon is dropped), or "field" alone (empty value);
 *   - `data` lines accumulate, joined by "\n"; `event` names the event ("message" when absent);
 *   - `id` sets the last event id, which stays for the events after it (a value with NUL is ignored);
 *   - `retry` with ASCII digits only sets the reconnection time (`retryMs`); other fields are ignored;
 *   - an empty line dispatches the event, unless it has no data line; what is pending at the end of the
 *     stream is never dispatched (the spec discards it).
 *
 * Browser-safe: no Node API, no imports (the dashboard's page inlines it).
 */

export interface SseEvent {
  /** The event type: the `event` field, or "message". */
  event: string;
  /** The `data` lines joined by "\n". */
  data: string;
  /** The last event id seen in the stream so far ("" when none). */
  id: string;
}

const LINE_END = /\r\n|\r|\n/;

export class SseParser {
  private buffer = '';
  private atStart = true;
  private eventType = '';
  private data: string[] = [];
  private lastId = '';
  private retry: number | undefined;

  /** The reconnection time the stream asked for (`retry: ms`), if it did. */
  get retryMs(): number | undefined {
    return this.retry;
  }

  /** The last event id the stream set (what a reconnection sends as Last-Event-ID), "" when none. */
  get lastEventId(): string {
    return this.lastId;
  }

  /** Feeds the next chunk of decoded text; returns the events it completed, in order. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    if (this.atStart && this.buffer.length > 0) {
      this.atStart = false;
      if (this.buffer.startsWith('\uFEFF')) this.buffer = this.buffer.slice(1);
    }
    const out: SseEvent[] = [];
    for (;;) {
      const match = LINE_END.exec(this.buffer);
      if (!match) break;
      const end = match.index;
      // A CR at the very end may be the first half of a CRLF cut between two chunks: wait for the next one.
      if (match[0] === '\r' && end === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + match[0].length);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  /** One line of the stream: an event when it is the empty line that ends one. */
  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const hasData = this.data.length > 0;
    const event = hasData ? { event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId } : undefined;
    this.eventType = '';
    this.data = [];
    return event;
  }
}
