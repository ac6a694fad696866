/**
 * A bound on request bodies: over MAX_BODY_BYTES is 413 `body-too-large`,
 * and the body is never held whole to find that out.
 *
 * - With a Content-Length (and no Transfer-Encoding) the length is known
 *   before a byte is read: over the bound is refused at once. The HTTP parser
 *   delivers exactly that many bytes, so nothing needs counting.
 * - Otherwise (chunked) the body is counted as it is read: the stream handed
 *   on errors with BodyTooLargeError the moment the count passes the bound,
 *   so whoever reads it (the request validator's `c.req.text()`) fails with a
 *   413 having held at most the bound plus one chunk; what the client still
 *   sends is discarded by the server, not kept.
 * The 413 says `Connection: close`: the client is still sending a body nobody
 * reads, so the connection is not reused.
 *
 * The bound: the largest legitimate body is a topology description
 * (TopologyText in openapi.yaml: `text` up to 1,048,576 characters), applied,
 * diffed or traced as JSON. JSON escaping makes it longer than its text — a
 * newline, tab, quote or backslash is two bytes — so 1 MiB would refuse a
 * text the schema allows. 1.5 MiB takes an ASCII text at the maximum with up
 * to half of its characters escaped, plus the envelope; every other body in
 * the spec is a few hundred bytes. (A text near the maximum written mostly in
 * multi-byte UTF-8 can still pass the schema and fail here: the 413 names the
 * bound.) It stays well under 2 MiB, so a 2 MiB body is always refused.
 */
import type { MiddlewareHandler } from 'hono';
import { VswitchError } from '../../switch/errors.js';

/** 1.5 MiB: see above. */
export const MAX_BODY_BYTES = 1_572_864;

/** A request body over the bound. HTTP 413 (Connection: close). */
export class BodyTooLargeError extends VswitchError {
  constructor(
    readonly maxBytes: number,
    declaredBytes?: number,
  ) {
    super(
      'body-too-large',
      declaredBytes === undefined
        ? `the request body is over ${maxBytes} bytes, the most this API accepts`
        : `the request body (Content-Length ${declaredBytes}) is over ${maxBytes} bytes, the most this API accepts`,
      { httpStatus: 413 },
    );
  }

  override responseHeaders(): Record<string, string> {
    return { connection: 'close' };
  }
}

export interface BodyLimitOptions {
  /** Default MAX_BODY_BYTES. */
  maxBytes?: number;
}

export function bodyLimit(options: BodyLimitOptions = {}): MiddlewareHandler {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      const bytes = Number(declared.trim());
      if (!Number.isSafeInteger(bytes) || bytes > maxBytes) throw new BodyTooLargeError(maxBytes, Number.isSafeInteger(bytes) ? bytes : undefined);
      await next();
      return;
    }
    const body = c.req.raw.body;
    if (body !== null) c.req.raw = new Request(c.req.raw, { body: countedBody(body, maxBytes), duplex: 'half' } as RequestInit);
    await next();
  };
}

/** `body`, erroring with BodyTooLargeError once more than maxBytes have passed; pulls only as fast as it is read. */
export function countedBody(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        seen += value.byteLength;
        if (seen > maxBytes) {
          controller.error(new BodyTooLargeError(maxBytes));
          // Stop reading; the server discards the rest (@hono/node-server drains or closes the request).
          reader.releaseLock();
          return;
        }
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
