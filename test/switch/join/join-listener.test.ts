/**
 * The join exchange over real TLS on loopback: the Proxy's listener (switch/join/join-listener.ts) and the joining
 * host's client (join-client.ts). The pin is checked before anything is sent: a listener with another certificate
 * receives not one byte of application data. The listener's bounds answer with their own codes.
 */
import { request } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { requestJoin } from '../../../switch/join/join-client.js';
import { JOIN_ATTEMPT_BURST } from '../../../switch/join/attempt-limiter.js';
import { MAX_JOIN_REQUEST_BYTES } from '../../../switch/join/join-exchange.js';
import { startJoinListener, type JoinListener } from '../../../switch/join/join-listener.js';
import { JoinedHostStore } from '../../../switch/join/joined-hosts.js';
import { JoinService } from '../../../switch/join/join-service.js';
import { certificatePin, createJoinCertificate } from '../../../switch/join/self-signed-certificate.js';
import { JoinTokenStore } from '../../../switch/join/token-store.js';
import { createLogger } from '../../../switch/log.js';

const key = (n: number): string => Buffer.alloc(32, n).toString('base64');
const certificate = createJoinCertificate('vswitch join proxy', Uint8Array.of(1, 2, 3), Date.UTC(2025, 0, 1));
const otherCertificate = createJoinCertificate('vswitch join proxy', Uint8Array.of(4, 5, 6), Date.UTC(2025, 0, 1));

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function listener(): Promise<{ listener: JoinListener; service: JoinService; tokens: JoinTokenStore; links: Map<string, string> }> {
  const tokens = new JoinTokenStore({ wallClock: Date.now, randomBytes: (n) => new Uint8Array(Buffer.alloc(n, Math.random() * 256)), persist: () => {} });
  const hosts = new JoinedHostStore({ persist: () => {} });
  const links = new Map<string, string>();
  const service = new JoinService({
    tokens,
    hosts,
    overlay: {
      proxyName: 'proxy',
      proxyPublicKey: key(1),
      linkEndpoints: () => ({ endpoint: '127.0.0.1:51820' }),
      nameConflict: () => undefined,
      keyConflict: () => undefined,
      addStarLink: async (h) => void links.set(h.name, h.publicKey),
      deleteStarLink: async (n) => void links.delete(n),
    },
    clock: new ManualClock(),
    wallClock: Date.now,
    log: createLogger({ write: () => {} }),
  });
  const started = await startJoinListener({ listen: { host: '127.0.0.1', port: 0 }, certificate, service, log: createLogger({ write: () => {} }) });
  closers.push(() => started.close());
  return { listener: started, service, tokens, links };
}

function tokenOf(tokens: JoinTokenStore, port: number, pin = certificatePin(certificate.certPem), name?: string) {
  const { record, secret } = tokens.create(name ? { name } : {}, 'ops');
  return { token: { host: '127.0.0.1', port, pin }, request: { v: 1 as const, token: record.id, secret: Buffer.from(secret).toString('base64url'), publicKey: key(9), name: 'h9' } };
}

/** A raw HTTPS request to the listener (no pin: the test is the client). */
function raw(port: number, options: { method?: string; path?: string; type?: string; body?: string | Buffer; chunked?: boolean }): Promise<{ status: number; body: { code?: string; detail?: string }; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/v1/join', rejectUnauthorized: false, headers: options.type === undefined ? {} : { 'content-type': options.type } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { code?: string }, headers: res.headers }));
    });
    req.on('error', reject);
    if (options.chunked && options.body !== undefined) {
      // Two writes before the end: no Content-Length, a chunked body the listener must bound as it reads.
      const half = Math.floor(options.body.length / 2);
      req.write(options.body.slice(0, half));
      req.write(options.body.slice(half));
      req.end();
    } else req.end(options.body);
  });
}

describe('the join certificate', () => {
  it('is a self-signed X.509 certificate that does not expire, pinned by the SHA-256 of its DER', () => {
    const x509 = new X509Certificate(certificate.certPem);
    expect(x509.subject).toBe('CN=vswitch join proxy');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.validTo).toMatch(/9999/);
    expect(new Date(x509.validFrom).getTime()).toBeLessThan(Date.UTC(2025, 0, 1));
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(Buffer.from(certificatePin(certificate.certPem)).toString('hex').toUpperCase()).toBe(x509.fingerprint256.replace(/:/g, ''));
    expect(certificatePin(otherCertificate.certPem)).not.toEqual(certificatePin(certificate.certPem));
  });
});

describe('the join exchange over TLS', () => {
  it('joins: the client checks the pin, posts, and reads the answer', async () => {
    const { listener: l, tokens, links } = await listener();
    const { token, request: body } = tokenOf(tokens, l.address.port);
    const answer = await requestJoin(token, body);
    expect(answer).toEqual({ v: 1, name: 'h9', proxy: { name: 'proxy', publicKey: key(1), endpoint: '127.0.0.1:51820' } });
    expect(links.get('h9')).toBe(key(9));
  });

  it("refuses a Proxy whose certificate is not the token's before it sends a byte", async () => {
    // A TLS server with another certificate, recording every byte it receives after the handshake.
    let received = 0;
    let connections = 0;
    const impostor = createTlsServer({ key: otherCertificate.keyPem, cert: otherCertificate.certPem }, (socket) => {
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.on('error', () => {});
    });
    let closed!: () => void;
    const serverSideClosed = new Promise<void>((resolve) => (closed = resolve));
    // The TCP connection, whether or not TLS completes on this side; once it closes, whatever was sent has arrived.
    impostor.on('connection', (socket) => {
      connections++;
      socket.on('close', () => closed());
    });
    impostor.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
    const port = (impostor.address() as AddressInfo).port;
    const { tokens } = await listener();
    const { token, request: body } = tokenOf(tokens, port);
    const err = (await requestJoin(token, body).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'join-pin-mismatch' });
    expect((err as Error).message).toContain("the Proxy's certificate is not the one in the token");
    expect((err as Error).message).toContain(new X509Certificate(otherCertificate.certPem).fingerprint256);
    await serverSideClosed;
    expect(connections).toBe(1);
    expect(received).toBe(0);
  });

  it("gives the Proxy's refusal its own code and message on the joining host", async () => {
    const { listener: l, tokens } = await listener();
    const first = tokenOf(tokens, l.address.port);
    await requestJoin(first.token, first.request);
    const err = await requestJoin(first.token, { ...first.request, name: 'h10', publicKey: key(10) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'join-token-used', httpStatus: 409 });
    expect((err as Error).message).toMatch(/^the Proxy refused the join: join token [0-9a-f]{16} was already used, by host "h9"/);
  });

  it('says join-unreachable when nothing listens there', async () => {
    const { listener: l, tokens } = await listener();
    const { token, request: body } = tokenOf(tokens, l.address.port);
    await l.close();
    await expect(requestJoin(token, body)).rejects.toMatchObject({ code: 'join-unreachable' });
  });

  it('answers only POST /v1/join with JSON of bounded size, each refusal with its own status and code', async () => {
    const { listener: l, service } = await listener();
    const port = l.address.port;
    expect(await raw(port, { method: 'GET', path: '/' })).toMatchObject({ status: 404, body: { code: 'join-not-found' } });
    expect(await raw(port, { type: 'text/plain', body: '{}' })).toMatchObject({ status: 415, body: { code: 'join-unsupported-media-type' } });
    expect(await raw(port, { type: 'application/json', body: 'not json' })).toMatchObject({ status: 400, body: { code: 'join-invalid' } });
    expect(await raw(port, { type: 'application/json', body: '{"v":1}' })).toMatchObject({ status: 400, body: { code: 'join-invalid' } });
    const big = Buffer.alloc(MAX_JOIN_REQUEST_BYTES + 1, 0x20);
    expect(await raw(port, { type: 'application/json', body: big })).toMatchObject({ status: 413, body: { code: 'join-too-large' } });
    expect(await raw(port, { type: 'application/json', body: big, chunked: true })).toMatchObject({ status: 413, body: { code: 'join-too-large' } });
    expect(service.refused).toMatchObject({ 'join-not-found': 1, 'join-unsupported-media-type': 1, 'join-invalid': 2, 'join-too-large': 2 });
  });

  it('rate-limits attempts per source address: 429 with Retry-After', async () => {
    const { listener: l } = await listener();
    for (let i = 0; i < JOIN_ATTEMPT_BURST; i++) await raw(l.address.port, { type: 'application/json', body: '{}' });
    const limited = await raw(l.address.port, { type: 'application/json', body: '{}' });
    expect(limited).toMatchObject({ status: 429, body: { code: 'join-rate-limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
