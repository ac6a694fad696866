/**
 * Bounds on the server-sent-event streams (GET /v1/events, /v1/vttif/events,
 * /v1/plugins/{name}/events), so that neither many subscribers nor a slow one
 * costs the daemon unbounded memory:
 *
 * - SseGate: at most `maxStreams` (32) streams at once per daemon; one more is
 *   429 `too-many-streams` with Retry-After, before its route runs (so it
 *   subscribes to nothing, and a policy's open stream is not replaced).
 * - boundEventStream: the bounded writer between a route and the socket. It
 *   reads what the route writes at once (so a route's `await writeSSE` never
 *   waits on a slow client and a route's own queue never grows) into a queue
 *   of at most `maxQueuedBytes` (1 MiB; one message always fits an empty
 *   queue), handed to the socket only as fast as the socket drains. A
 *   subscriber whose queue would pass the bound, or that has taken nothing for
 *   `maxStallMs` (30 s) while data waits, is dropped: the route's stream is
 *   cancelled (its onAbort unsubscribes), the connection is closed, and its
 *   slot is freed. Checked whenever the route writes — every route writes at
 *   least a keepalive every 15 s — so no timer is needed.
 * - limitEventStreams: the middleware doing both for every operation whose
 *   response openapi.yaml declares `text/event-stream` (specEventStreams), so
 *   the routes need no change and a new stream in the spec is covered. HEAD on
 *   such a path is answered with the headers and the stream is cancelled at
 *   once (Hono runs the GET route for HEAD and drops the body, which would
 *   otherwise leave the route subscribed for ever).
 * Worst case held per daemon: maxStreams × (maxQueuedBytes + one message).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { VswitchError } from '../../switch/errors.js';
import type { Logger } from '../../switch/log.js';
import type { RequestValidator } from './request-validator.js';

export const MAX_EVENT_STREAMS = 32;
export const EVENT_STREAM_RETRY_AFTER_S = 10;
export const MAX_QUEUED_BYTES = 1024 * 1024;
export const MAX_STALL_MS = 30_000;

/** Every event-stream slot is taken. HTTP 429 with Retry-After. */
export class TooManyStreamsError extends VswitchError {
  constructor(
    max: number,
    readonly retryAfterS: number,
  ) {
    super('too-many-streams', `this daemon already serves ${max} event streams, the most it keeps open: retry after ${retryAfterS} s`, {
      httpStatus: 429,
    });
  }

  override responseHeaders(): Record<string, string> {
    return { 'retry-after': String(this.retryAfterS) };
  }
}

/** One stream's place in the gate; release() is idempotent. */
export interface SseSlot {
  release(): void;
}

export interface SseGateOptions {
  /** Default MAX_EVENT_STREAMS. */
  maxStreams?: number;
  /** Default EVENT_STREAM_RETRY_AFTER_S. */
  retryAfterS?: number;
}

/** Counts the open event streams of one daemon. */
export class SseGate {
  readonly maxStreams: number;
  readonly retryAfterS: number;
  #active = 0;

  constructor(options: SseGateOptions = {}) {
    this.maxStreams = options.maxStreams ?? MAX_EVENT_STREAMS;
    this.retryAfterS = options.retryAfterS ?? EVENT_STREAM_RETRY_AFTER_S;
  }

  get active(): number {
    return this.#active;
  }

  /** A slot, or TooManyStreamsError when all are taken. */
  acquire(): SseSlot {
    if (this.#active >= this.maxStreams) throw new TooManyStreamsError(this.maxStreams, this.retryAfterS);
    this.#active++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#active--;
      },
    };
  }
}

export interface EventStreamBounds {
  /** Default MAX_QUEUED_BYTES. */
  maxQueuedBytes?: number;
  /** Default MAX_STALL_MS. */
  maxStallMs?: number;
  /** Default performance.now. */
  clock?: { now(): number };
}

export type DropReason = 'queue-full' | 'stalled';

export interface BoundEventStreamOptions extends EventStreamBounds {
  /** Once, at the first of: the route ended its stream, the client went away, it was dropped. */
  onEnd?: () => void;
  /** The subscriber was dropped (before onEnd). */
  onDrop?: (reason: DropReason, queuedBytes: number) => void;
  /** Closes the client's connection (a dropped client may not be reading: ending the body would wait on it). */
  closeConnection?: () => void;
}

/** `body` (what a route writes), read eagerly into a bounded queue and given out as fast as it is read. */
export function boundEventStream(body: ReadableStream<Uint8Array>, options: BoundEventStreamOptions = {}): ReadableStream<Uint8Array> {
  const maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const maxStallMs = options.maxStallMs ?? MAX_STALL_MS;
  const clock = options.clock ?? performance;
  const reader = body.getReader();
  const queue: Uint8Array[] = [];
  let queuedBytes = 0;
  /** Since when data has waited with nothing taken. */
  let waitingSince = 0;
  let isRouteDone = false;
  let isOver = false;
  let isEndReported = false;
  let wake: (() => void) | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const reportEnd = (): void => {
    if (isEndReported) return;
    isEndReported = true;
    options.onEnd?.();
  };
  const over = (): void => {
    if (isOver) return;
    isOver = true;
    queue.length = 0;
    queuedBytes = 0;
    wake?.();
    reportEnd();
  };
  const drop = (reason: DropReason): void => {
    options.onDrop?.(reason, queuedBytes);
    over();
    reader.cancel(new Error(`event stream dropped: ${reason}`)).catch(() => {});
    try {
      controller.close();
    } catch {
      // already closed
    }
    options.closeConnection?.();
  };
  const pump = async (): Promise<void> => {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        chunk = { done: true, value: undefined };
      }
      if (isOver) return;
      if (chunk.done) {
        // What is queued still goes out, but the slot is free: the route holds nothing any more.
        isRouteDone = true;
        reportEnd();
        wake?.();
        return;
      }
      const now = clock.now();
      if (queue.length > 0) {
        if (queuedBytes + chunk.value.byteLength > maxQueuedBytes) return drop('queue-full');
        if (now - waitingSince > maxStallMs) return drop('stalled');
      } else {
        waitingSince = now;
      }
      queue.push(chunk.value);
      queuedBytes += chunk.value.byteLength;
      wake?.();
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        void pump();
      },
      async pull(c) {
        while (!isOver && queue.length === 0 && !isRouteDone) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const next = queue.shift();
        if (next !== undefined) {
          queuedBytes -= next.byteLength;
          waitingSince = clock.now();
          c.enqueue(next);
          return;
        }
        if (isOver) return;
        over();
        c.close();
      },
      cancel(reason) {
        over();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

export interface LimitEventStreamsOptions extends EventStreamBounds {
  /** Drops are logged (warn). */
  log?: Logger;
}

/** Which requests are event streams: method + path → boolean. */
export type EventStreamMatcher = (method: string, path: string) => boolean;

/** The operations whose responses openapi.yaml declares as text/event-stream, matched through the validator. */
export function specEventStreams(validator: RequestValidator): EventStreamMatcher {
  // Found at the first request, in the validator's one parse of the spec.
  let ids: Set<string> | undefined;
  const eventStreamIds = (): Set<string> => {
    const spec = validator.spec() as { paths?: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>> };
    const found = new Set<string>();
    for (const item of Object.values(spec.paths ?? {})) {
      for (const op of Object.values(item)) {
        if (typeof op !== 'object' || op === null || typeof op.operationId !== 'string') continue;
        const responses = Object.values(op.responses ?? {}) as { content?: Record<string, unknown> }[];
        if (responses.some((r) => r !== null && typeof r === 'object' && r.content !== undefined && 'text/event-stream' in r.content)) found.add(op.operationId);
      }
    }
    return found;
  };
  return (method, path) => {
    const op = validator.match(method, path);
    return op !== undefined && (ids ??= eventStreamIds()).has(op.operationId);
  };
}

/** The gate and the bounded writer for every event-stream request (see the top of this file). */
export function limitEventStreams(gate: SseGate, isEventStream: EventStreamMatcher, options: LimitEventStreamsOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method.toUpperCase();
    if (!isEventStream(method, c.req.path)) return next();
    if (method === 'HEAD') {
      await next();
      await c.res.body?.cancel().catch(() => {});
      c.res = new Response(null, c.res);
      return;
    }
    const slot = gate.acquire();
    try {
      await next();
    } catch (err) {
      slot.release();
      throw err;
    }
    const res = c.res;
    if (res.body === null || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      slot.release();
      return;
    }
    const path = c.req.path;
    c.res = new Response(
      boundEventStream(res.body, {
        ...options,
        onEnd: () => slot.release(),
        onDrop: (reason, queuedBytes) => options.log?.warn('event stream dropped', { path, reason, queuedBytes }),
        ...connectionCloser(c),
      }),
      res,
    );
  };
}

/** Under @hono/node-server, closing the response's socket (`c.env.outgoing`); nothing under `app.request`. */
function connectionCloser(c: Context): { closeConnection?: () => void } {
  const env: unknown = c.env;
  const outgoing = (env as { outgoing?: { destroy?: unknown } } | undefined)?.outgoing;
  if (typeof outgoing?.destroy !== 'function') return {};
  return { closeConnection: () => (outgoing.destroy as () => void).call(outgoing) };
}
