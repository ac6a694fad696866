/**
 * scripts/lab's keys in one process: `node dist/scripts/lib/lab-keys.js DIR NODE...` writes DIR/NODE.key (mode 0600)
 * and DIR/NODE.pub for each node, in the formats of `vswitch genkey` / `vswitch pubkey`. Two CLI runs per node cost
 * ~0.11 s each of Node start-up: 45 s of a 200-host lab's up time; one process does all 201 in 0.12 s.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';

const [dir, ...nodes] = process.argv.slice(2);
if (dir === undefined || nodes.length === 0) {
  console.error('usage: lab-keys DIR NODE...');
  process.exit(2);
}
for (const node of nodes) {
  if (!/^[a-z0-9-]+$/.test(node)) throw new Error(`lab-keys: '${node}' is not a node name`);
  const privateKey = generatePrivateKey((n) => new Uint8Array(randomBytes(n)));
  writeFileSync(join(dir, `${node}.key`), encodeKeyBase64(privateKey) + '\n', { mode: 0o600 });
  writeFileSync(join(dir, `${node}.pub`), encodeKeyBase64(publicKey(privateKey)) + '\n');
}
