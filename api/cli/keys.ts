/** `vswitch genkey` / `vswitch pubkey`: the same formats as `wg genkey` / `wg pubkey` (base64 Curve25519). */
import { randomBytes } from 'node:crypto';
import { decodeKeyBase64, encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';

export function runGenkey(): void {
  process.stdout.write(encodeKeyBase64(generatePrivateKey((n) => new Uint8Array(randomBytes(n)))) + '\n');
}

export async function runPubkey(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const privateKey = decodeKeyBase64(Buffer.concat(chunks).toString('utf8').trim());
  process.stdout.write(encodeKeyBase64(publicKey(privateKey)) + '\n');
}
