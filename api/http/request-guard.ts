/**
 * The first middleware of the API, before authenticate: what a web page the
 * operator opens must not be able to do to the daemon on 127.0.0.1, where no
 * token is needed.
 *
 * 1. Host (DNS rebinding). A rebinding page reaches 127.0.0.1:7000 under its
 *    own name, so its requests carry `Host: evil.example:7000`. Over TCP the
 *    Host must name this daemon: a loopback name (`localhost`, any 127.x.y.z,
 *    `[::1]`), the configured listen address, the address the connection
 *    arrived on (an IP literal: what a client on another machine types for a
 *    listen on 0.0.0.0), or a name in `allowedHosts` — with the port the
 *    connection arrived on (the configured one when there is no socket, as in
 *    `app.request` tests; port 0 there means "not checked"). Anything else is
 *    421 Misdirected Request (`host-not-allowed`): RFC 9110 §15.5.20, "not
 *    able or willing to produce an authoritative response for the target
 *    URI", which is exactly the case. On a unix socket Host is not checked
 *    (a browser cannot reach one; file permissions guard it).
 * 2. Origin (CSRF). A change (every method but GET and HEAD) whose `Origin`
 *    is present and is not this daemon's own (http://HOST, same scheme, host
 *    and port as the Host header), or whose `Sec-Fetch-Site` is `cross-site`,
 *    is 403 `cross-origin`. Reads are refused too when they can only come
 *    from another site's script or subresource (a foreign `Origin`, or
 *    `Sec-Fetch-Site: cross-site` that is not a navigation): no such page can
 *    read the answer anyway (no CORS header is ever sent), but each one could
 *    hold an event stream open; following a link to /docs or / still works.
 * 3. Content type (CSRF). A body must be `application/json` (charset, when
 *    given, utf-8): a form or `fetch` with `text/plain` is a "simple" request
 *    a browser sends cross-site with no preflight. Anything else is 415
 *    `unsupported-media-type`, naming the type sent.
 * No response ever carries Access-Control-* headers: nothing here adds them,
 * and an OPTIONS preflight gets no route (404), so a browser refuses to send
 * the real request.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { VswitchError } from '../../switch/errors.js';
import type { Logger } from '../../switch/log.js';

/** The Host does not name this daemon (DNS rebinding, or a wrong port). HTTP 421. */
export class HostNotAllowedError extends VswitchError {
  constructor(host: string | undefined, expected: string) {
    super(
      'host-not-allowed',
      host === undefined
        ? `the request has no Host header: this API answers only for ${expected}`
        : `Host "${clip(host)}" does not name this daemon: it answers only for ${expected} (a DNS name needs api.allowedHosts)`,
      { httpStatus: 421 },
    );
  }
}

/** A change asked for by another site's page (Origin or Sec-Fetch-Site), or a cross-site subresource read. HTTP 403. */
export class CrossOriginError extends VswitchError {
  constructor(reason: string) {
    super('cross-origin', `cross-origin requests are refused: ${reason}`, { httpStatus: 403 });
  }
}

/** A request body that is not application/json. HTTP 415 (with Accept-Post / Accept-Patch). */
export class UnsupportedMediaTypeError extends VswitchError {
  constructor(
    contentType: string | undefined,
    private readonly method: string,
  ) {
    super(
      'unsupported-media-type',
      contentType === undefined
        ? 'a request body must be application/json: this one has no Content-Type'
        : `a request body must be application/json, not "${clip(contentType)}"`,
      { httpStatus: 415 },
    );
  }

  override responseHeaders(): Record<string, string> {
    if (this.method === 'POST') return { 'accept-post': 'application/json' };
    if (this.method === 'PATCH') return { 'accept-patch': 'application/json' };
    return {};
  }
}

export interface RequestGuardOptions {
  /** The API's listen address as configured: "host:port" (port 0: the one bound) or "unix:/path". */
  listen: string;
  /**
   * More names the API is reached by, for a listen on 0.0.0.0 or [::] under a DNS name (config `api.allowedHosts`):
   * "name" (with the listen port) or "name:port". IP literals of this machine need no entry: the address a
   * connection arrived on is always allowed.
   */
  allowedHosts?: readonly string[];
  /** Refusals are logged (warn) with the method, path and code. */
  log?: Logger;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);
/** A Host header as RFC 9110 allows it: reg-name or IPv4 or [IPv6], optional port. Nothing else (no userinfo, path). */
const HOST_HEADER = /^(?:[a-z0-9._~!$&'()*+,;=%-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export function requestGuard(options: RequestGuardOptions): MiddlewareHandler {
  const listen = parseListen(options.listen);
  const allowed = (options.allowedHosts ?? []).map((entry) => {
    const parsed = parseHost(entry);
    if (!parsed) throw new Error(`requestGuard: allowedHosts entry "${entry}" is not a host name or host:port`);
    // Without a port of its own, an entry goes with the port the API listens on.
    return { hostname: parsed.hostname, port: /\]$|^[^:]*$/.test(entry) ? undefined : parsed.port };
  });
  const expectedText = (port: string | undefined): string => {
    const names = ['localhost', '127.0.0.1', '[::1]'];
    if (listen.kind === 'tcp' && !listen.isWildcard && !names.includes(listen.hostname)) names.push(listen.hostname);
    names.push(...allowed.map((a) => a.hostname));
    return `${names.join(', ')}${port === undefined ? '' : ` on port ${port}`}`;
  };

  return async (c, next) => {
    const method = c.req.method.toUpperCase();
    const refuse = (err: VswitchError): VswitchError => {
      options.log?.warn('api request refused', { method, path: c.req.path, code: err.code });
      return err;
    };
    const hostHeader = c.req.header('host') ?? hostOfUrl(c.req.url);

    if (listen.kind === 'tcp') {
      const socket = socketOf(c);
      const port = socket?.localPort !== undefined ? String(socket.localPort) : listen.port === '0' ? undefined : listen.port;
      const host = hostHeader === undefined ? undefined : parseHost(hostHeader);
      const portOk = (want: string | undefined): boolean => want === undefined || host?.port === want;
      const isOwnName = (name: string): boolean =>
        isLoopbackHostname(name) ||
        (!listen.isWildcard && name === listen.hostname) ||
        (socket?.localAddress !== undefined && name === addressAsHostname(socket.localAddress));
      const ok =
        host !== undefined &&
        ((isOwnName(host.hostname) && portOk(port)) || allowed.some((a) => a.hostname === host.hostname && portOk(a.port ?? port)));
      if (!ok) throw refuse(new HostNotAllowedError(hostHeader, expectedText(port)));
    }

    const crossOrigin = crossOriginReason(c, method, hostHeader);
    if (crossOrigin !== undefined) throw refuse(new CrossOriginError(crossOrigin));

    if (hasBody(c)) {
      const type = c.req.header('content-type');
      if (!isJsonType(type)) throw refuse(new UnsupportedMediaTypeError(type, method));
    }
    await next();
  };
}

/** Why this request is refused as cross-origin, or undefined when it is not. */
function crossOriginReason(c: Context, method: string, hostHeader: string | undefined): string | undefined {
  const origin = c.req.header('origin');
  const site = c.req.header('sec-fetch-site')?.toLowerCase();
  const isSafe = SAFE_METHODS.has(method);
  if (origin !== undefined && !isOwnOrigin(origin, hostHeader)) {
    return `Origin "${clip(origin)}" is not this API's own (http://${clip(hostHeader ?? '')})`;
  }
  if (site === 'cross-site') {
    if (!isSafe) return `Sec-Fetch-Site: cross-site on ${method}`;
    const mode = c.req.header('sec-fetch-mode')?.toLowerCase();
    const dest = c.req.header('sec-fetch-dest')?.toLowerCase();
    // A top-level (or frame) navigation — following a link — may read; a script's fetch or a subresource may not.
    if (mode !== 'navigate' || dest === 'object' || dest === 'embed') return `Sec-Fetch-Site: cross-site, Sec-Fetch-Mode: ${mode ?? 'none'}`;
  }
  return undefined;
}

function isOwnOrigin(origin: string, hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || origin === 'null') return false;
  try {
    return new URL(origin).origin === new URL(`http://${hostHeader}`).origin;
  } catch {
    return false;
  }
}

/**
 * Whether the request has a body. Content-Length says so (0: none); Transfer-Encoding means one; over HTTP/1 with
 * neither there is none (RFC 9112 §6.3) even though the server hands every POST a body stream; with no socket
 * (`app.request`) the Request itself knows.
 */
export function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return length.trim() !== '0';
  if (c.req.header('transfer-encoding') !== undefined) return true;
  const incoming = incomingOf(c);
  if (incoming !== undefined && incoming.httpVersionMajor === 1) return false;
  return c.req.raw.body !== null;
}

/** application/json, with no parameter but charset=utf-8 (RFC 8259: JSON is UTF-8). */
export function isJsonType(type: string | undefined): boolean {
  if (type === undefined) return false;
  const [media, ...params] = type.split(';').map((part) => part.trim().toLowerCase());
  if (media !== 'application/json') return false;
  return params.every((p) => p === '' || /^charset="?utf-8"?$/.test(p));
}

/** localhost, 127.0.0.0/8, [::1] (as a URL normalizes them: lower case, IPv6 in brackets). */
export function isLoopbackHostname(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255);
}

type Listen = { kind: 'unix' } | { kind: 'tcp'; hostname: string; port: string; isWildcard: boolean };

function parseListen(listen: string): Listen {
  if (listen.startsWith('unix:')) return { kind: 'unix' };
  const parsed = parseHost(listen);
  if (!parsed || parsed.port === '') throw new Error(`requestGuard: listen "${listen}" is not "host:port" or "unix:/path"`);
  return { kind: 'tcp', hostname: parsed.hostname, port: parsed.port, isWildcard: parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]' };
}

/** A Host value split and normalized as a URL does it (port "" → "80"); undefined when it is not a plain host[:port]. */
function parseHost(value: string): { hostname: string; port: string } | undefined {
  if (!HOST_HEADER.test(value)) return undefined;
  try {
    const url = new URL(`http://${value}`);
    return { hostname: url.hostname, port: url.port === '' ? '80' : url.port };
  } catch {
    return undefined;
  }
}

function hostOfUrl(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** A socket address as a Host hostname: "::ffff:10.0.0.5" → "10.0.0.5", "fe80::1" → "[fe80::1]". */
function addressAsHostname(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  return address.includes(':') ? (parseHost(`[${address}]`)?.hostname ?? address) : address;
}

interface IncomingLike {
  httpVersionMajor: number;
  socket?: { localPort?: number; localAddress?: string };
}

/** The node:http request under @hono/node-server (`c.env.incoming`); undefined under `app.request`. */
function incomingOf(c: Context): IncomingLike | undefined {
  const env: unknown = c.env;
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return typeof incoming === 'object' && incoming !== null && 'httpVersionMajor' in incoming ? (incoming as IncomingLike) : undefined;
}

function socketOf(c: Context): { localPort?: number; localAddress?: string } | undefined {
  return incomingOf(c)?.socket;
}

function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= 100 ? printable : `${printable.slice(0, 99)}…`;
}
