/**
 * The joining host's side of the exchange: TLS to the address in the token, the Proxy's certificate checked
 * against the token's pin as soon as the handshake completes — before a single byte of the request is written —
 * then one `POST /v1/join` on that same connection and its answer, bounded and checked (join-exchange.ts).
 *
 * Certificate chains are not checked (`rejectUnauthorized: false`): the pin is the whole of the Proxy's identity,
 * compared with the SHA-256 of the DER the Proxy presented. A Proxy's refusal comes back as the error class of its
 * code (join-errors.ts), with the Proxy's message (cut to 400 printable characters: the Proxy was authenticated,
 * but a message is still only text to show).
 */
import { request } from 'node:http';
import { connect, type TLSSocket } from 'node:tls';
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  JoinAnswerInvalidError,
  JoinPinMismatchError,
  JoinRefusedError,
  JoinUnreachableError,
  JOIN_ANSWER_CODES,
} from './join-errors.js';
import { JOIN_PATH, MAX_JOIN_ANSWER_BYTES, parseJoinAnswer, type JoinAnswer, type JoinRequest } from './join-exchange.js';
import { formatPin, joinAddress, type JoinTokenFields } from './join-token.js';

export const JOIN_CLIENT_TIMEOUT_MS = 15_000;

export async function requestJoin(token: Pick<JoinTokenFields, 'host' | 'port' | 'pin'>, body: JoinRequest, timeoutMs = JOIN_CLIENT_TIMEOUT_MS): Promise<JoinAnswer> {
  const address = joinAddress(token);
  const socket = await pinnedConnection(token, address, timeoutMs);
  try {
    return await postJoin(socket, address, body, timeoutMs);
  } finally {
    socket.destroy();
  }
}

/** A TLS connection whose peer presented the pinned certificate; anything else is closed at once. */
function pinnedConnection(token: Pick<JoinTokenFields, 'host' | 'port' | 'pin'>, address: string, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: token.host, port: token.port, rejectUnauthorized: false, minVersion: 'TLSv1.3', timeout: timeoutMs });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.once('timeout', () => fail(new JoinUnreachableError(address, `no TLS handshake within ${timeoutMs / 1000} s`)));
    socket.once('error', (err) => fail(new JoinUnreachableError(address, (err as NodeJS.ErrnoException).code ?? err.message, { cause: err })));
    socket.once('secureConnect', () => {
      const presented = socket.getPeerX509Certificate()?.raw;
      const found = presented ? new Uint8Array(createHash('sha256').update(presented).digest()) : new Uint8Array(32);
      if (!presented || !timingSafeEqual(found, token.pin)) return fail(new JoinPinMismatchError(address, formatPin(token.pin), presented ? formatPin(found) : 'no certificate'));
      socket.removeAllListeners('timeout');
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

function postJoin(socket: TLSSocket, address: string, body: JoinRequest, timeoutMs: number): Promise<JoinAnswer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        createConnection: () => socket,
        method: 'POST',
        path: JOIN_PATH,
        headers: { host: address, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), accept: 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_JOIN_ANSWER_BYTES) {
            req.destroy();
            reject(new JoinAnswerInvalidError(`longer than ${MAX_JOIN_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return reject(new JoinAnswerInvalidError(`HTTP ${res.statusCode}, and not JSON`));
          }
          const status = res.statusCode ?? 0;
          if (status === 200) {
            try {
              resolve(parseJoinAnswer(parsed));
            } catch (err) {
              reject(err);
            }
            return;
          }
          reject(refusal(parsed, status));
        });
        res.on('error', (err) => reject(new JoinUnreachableError(address, err.message, { cause: err })));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(new JoinUnreachableError(address, (err as NodeJS.ErrnoException).code ?? err.message, { cause: err })));
    req.end(payload);
  });
}

/** A refusal of the Proxy as the error of its code: a known one keeps it, any other is `join-refused`. */
function refusal(problem: unknown, status: number): JoinRefusedError {
  const p = (problem ?? {}) as { code?: unknown; detail?: unknown };
  const code = typeof p.code === 'string' && JOIN_ANSWER_CODES.has(p.code) ? p.code : 'join-refused';
  const detail = typeof p.detail === 'string' ? p.detail.replace(/[^\x20-\x7e\u00a0-\u024f–—…→]/g, '?').slice(0, 400) : `HTTP ${status}`;
  return new JoinRefusedError(code, `the Proxy refused the join: ${detail}`, status);
}
