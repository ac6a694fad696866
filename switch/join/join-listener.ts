/**
 * The Proxy's join listener (config `join.listen`): HTTPS with the Proxy's self-signed join certificate, one route,
 * `POST /v1/join` (join-exchange.ts). It is the only part of the Proxy a host without a key can reach, so it
 * takes nothing on trust:
 *   - TLS 1.3 only; the handshake must finish in 5 s, the headers in 5 s, the whole request in 10 s;
 *   - 64 connections at once, one request per connection, headers ≤ 8 KiB, the body ≤ MAX_JOIN_REQUEST_BYTES
 *     (413 from Content-Length before reading, or as soon as the body passes it), JSON only (415);
 *   - every request, good or bad, is an attempt of its source address (JoinService.admit: 429 + Retry-After);
 *   - answers are problem+json with a fixed code (join-errors.ts); an error nobody meant is a 500 that says only
 *     "see the Proxy's log".
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VswitchError } from '../errors.js';
import type { Logger } from '../log.js';
import { JOIN_PATH, MAX_JOIN_REQUEST_BYTES } from './join-exchange.js';
import { JoinRequestInvalidError } from './join-errors.js';
import type { JoinService } from './join-service.js';
import type { JoinCertificate } from './self-signed-certificate.js';

export const JOIN_LISTENER_LIMITS = {
  maxConnections: 64,
  handshakeTimeoutMs: 5000,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  maxHeaderBytes: 8192,
} as const;

export class JoinListenError extends VswitchError {
  constructor(listen: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown';
    const why = code === 'EACCES' || code === 'EPERM' ? `permission denied: ports below 1024 need CAP_NET_BIND_SERVICE (${code})` : code;
    super('join-listen', `the join listener cannot listen on ${listen}: ${why} (config join.listen)`, { cause });
  }
}

/** Refusals of the listener itself, before the service sees a request. */
class ListenerRefusal extends VswitchError {
  constructor(code: 'join-not-found' | 'join-too-large' | 'join-unsupported-media-type', message: string, status: number) {
    super(code, message, { httpStatus: status });
  }
}

export interface JoinListener {
  /** What is bound ("IP:PORT"), with the port the system chose when it was 0. */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export interface JoinListenerOptions {
  listen: { host: string; port: number };
  certificate: JoinCertificate;
  service: JoinService;
  log: Logger;
}

export function startJoinListener(options: JoinListenerOptions): Promise<JoinListener> {
  const { listen, certificate, service, log } = options;
  const server: Server = createServer(
    {
      key: certificate.keyPem,
      cert: certificate.certPem,
      minVersion: 'TLSv1.3',
      handshakeTimeout: JOIN_LISTENER_LIMITS.handshakeTimeoutMs,
      requestTimeout: JOIN_LISTENER_LIMITS.requestTimeoutMs,
      headersTimeout: JOIN_LISTENER_LIMITS.headersTimeoutMs,
      maxHeaderSize: JOIN_LISTENER_LIMITS.maxHeaderBytes,
      keepAliveTimeout: 0,
    },
    (req, res) => void handle(req, res, service, log),
  );
  server.maxConnections = JOIN_LISTENER_LIMITS.maxConnections;
  server.maxRequestsPerSocket = 1;
  server.on('tlsClientError', (err, socket) => {
    service.countRefused('join-tls-failed');
    log.debug('join: TLS handshake failed', { from: socket.remoteAddress, err: (err as NodeJS.ErrnoException).code ?? err.message });
  });
  const shown = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new JoinListenError(shown, err)));
    server.listen(listen.port, listen.host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => log.warn('join listener error', { err }));
      const bound = server.address() as AddressInfo;
      resolve({
        address: { host: bound.address, port: bound.port },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, service: JoinService, log: Logger): Promise<void> {
  const source = normalizeAddress(req.socket.remoteAddress ?? 'unknown');
  try {
    service.admit(source);
    const body = await readRequest(req, service);
    const answer = await service.join(body, source);
    send(res, 200, 'application/json', answer);
  } catch (err) {
    if (err instanceof VswitchError && err.httpStatus < 500) {
      const fields = err.fieldErrors();
      // A body over the bound is not read on: the connection goes once the answer is out.
      if (err.code === 'join-too-large') res.once('finish', () => req.destroy());
      send(res, err.httpStatus, 'application/problem+json', { type: `urn:vswitch:problem:${err.code}`, status: err.httpStatus, code: err.code, detail: err.message, ...(fields ? { errors: fields } : {}) }, err.responseHeaders());
      return;
    }
    log.error('join failed inside the Proxy', { from: source, err });
    send(res, 500, 'application/problem+json', { type: 'urn:vswitch:problem:internal', status: 500, code: 'internal', detail: 'the Proxy could not complete the join (see its log)' });
  }
}

/** The request's JSON body, after the route, type and size checks. */
async function readRequest(req: IncomingMessage, service: JoinService): Promise<unknown> {
  const refuse = (code: 'join-not-found' | 'join-too-large' | 'join-unsupported-media-type', message: string, status: number): never => {
    service.countRefused(code);
    throw new ListenerRefusal(code, message, status);
  };
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'POST' || path !== JOIN_PATH) refuse('join-not-found', `the join listener answers only POST ${JOIN_PATH} (found ${(req.method ?? '?').slice(0, 16)} ${(path ?? '').slice(0, 64)})`, 404);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') refuse('join-unsupported-media-type', `a join request is application/json (found "${type.slice(0, 64)}")`, 415);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JOIN_REQUEST_BYTES) refuse('join-too-large', `a join request is at most ${MAX_JOIN_REQUEST_BYTES} bytes (Content-Length ${declared})`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JOIN_REQUEST_BYTES) refuse('join-too-large', `a join request is at most ${MAX_JOIN_REQUEST_BYTES} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    service.countRefused('join-invalid');
    throw new JoinRequestInvalidError('', 'is not JSON');
  }
}

function send(res: ServerResponse, status: number, type: string, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', connection: 'close', ...headers });
  res.end(text);
}

/** IPv4-mapped IPv6 ("::ffff:198.18.0.3") as IPv4. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
