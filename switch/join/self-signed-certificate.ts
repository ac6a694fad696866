/**
 * The join listener's certificate: self-signed, ECDSA P-256, made once and kept. Nobody checks it against a CA:
 * joining hosts pin its SHA-256 (the token carries it), as kubeadm pins its CA's key. So it names nothing that
 * matters (subject "vswitch join NAME") and does not expire (notAfter 9999-12-31, RFC 5280 §4.1.2.5).
 *
 * Node can parse X.509 but not write it, so the few DER structures of a v3 certificate without extensions are
 * written here (RFC 5280 §4.1); node:crypto signs, and X509Certificate re-reads the result as a check.
 */
import { createHash, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';

export interface JoinCertificate {
  /** PEM of the private key (PKCS#8). */
  readonly keyPem: string;
  readonly certPem: string;
}

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_COMMON_NAME = '2.5.4.3';

/** A new key and self-signed certificate; `serial` is 16 random bytes, `nowMs` the start of its validity. */
export function createJoinCertificate(subject: string, serial: Uint8Array, nowMs: number): JoinCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const algorithm = sequence(objectId(OID_ECDSA_WITH_SHA256));
  const name = sequence(set(sequence(objectId(OID_COMMON_NAME), utf8String(subject))));
  const tbs = sequence(
    tlv(0xa0, integer(Uint8Array.of(2))), // [0] version v3
    integer(serial.length > 0 ? Uint8Array.of(serial[0]! & 0x7f || 1, ...serial.subarray(1)) : Uint8Array.of(1)), // positive, nonzero
    algorithm,
    name,
    sequence(certificateTime(new Date(nowMs - 24 * 3600 * 1000)), certificateTime(new Date(Date.UTC(9999, 11, 31, 23, 59, 59)))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Uint8Array.of(0), signature));
  const certPem = pem('CERTIFICATE', der);
  if (!new X509Certificate(certPem).verify(publicKey)) throw new Error('join certificate: the new certificate does not verify');
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPem };
}

/** SHA-256 of a certificate's DER: what tokens pin. */
export function certificatePin(certPemOrDer: string | Uint8Array): Uint8Array {
  const der = typeof certPemOrDer === 'string' ? new X509Certificate(certPemOrDer).raw : certPemOrDer;
  return new Uint8Array(createHash('sha256').update(der).digest());
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Uint8Array.of(tag, ...length), body]);
}

const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, ...parts);
const utf8String = (text: string): Uint8Array => tlv(0x0c, Buffer.from(text, 'utf8'));

/** A non-negative INTEGER: a leading zero byte when the high bit is set. */
function integer(bytes: Uint8Array): Uint8Array {
  return tlv(0x02, bytes[0]! & 0x80 ? Uint8Array.of(0, ...bytes) : bytes);
}

function objectId(dotted: string): Uint8Array {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime YYYYMMDDHHMMSSZ from 2050 (RFC 5280 §4.1.2.5). */
function certificateTime(date: Date): Uint8Array {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

function pem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
