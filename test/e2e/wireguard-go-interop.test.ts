/**
 * Wire compatibility with a real WireGuard peer: our LinkManager handshakes
 * with wireguard-go (Debian's package) across a veth and pings through it,
 * carrying raw IP in the tunnel as a WireGuard peer expects.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { ROOT, requireRoot } from './support/lab.js';
import { addNamespace, deleteNamespaces, inNs, ip } from './support/netns.js';
import { generateWireguardKeyPair, startWireguardGo, wgShow, type WireguardGo } from './support/wireguard-go.js';

const NS = ['vs-wgi-us', 'vs-wgi-wg'] as const;
let wg: WireguardGo | undefined;

describe('interop with wireguard-go', () => {
  const ours = generatePrivateKey((n) => new Uint8Array(randomBytes(n)));
  const theirs = generateWireguardKeyPair();

  beforeAll(async () => {
    requireRoot();
    deleteNamespaces(NS);
    for (const n of NS) addNamespace(n);
    ip('-n', NS[0], 'link', 'add', 'u0', 'type', 'veth', 'peer', 'name', 'u0', 'netns', NS[1]);
    ip('-n', NS[0], 'addr', 'add', '198.18.99.1/24', 'dev', 'u0');
    ip('-n', NS[1], 'addr', 'add', '198.18.99.2/24', 'dev', 'u0');
    ip('-n', NS[0], 'link', 'set', 'u0', 'up');
    ip('-n', NS[1], 'link', 'set', 'u0', 'up');
    wg = await startWireguardGo({
      ns: NS[1],
      ifname: 'vswgi0',
      privateKey: theirs.privateKey,
      listenPort: 51820,
      address: '198.19.99.2/24',
      peer: { publicKey: encodeKeyBase64(publicKey(ours)), endpoint: '198.18.99.1:51820', allowedIps: ['198.19.99.1/32'] },
    });
  });

  afterAll(async () => {
    await wg?.stop();
    deleteNamespaces(NS);
  });

  it('handshakes with wireguard-go and exchanges pings through the tunnel', async () => {
    const r = inNs(NS[0], [
      'node',
      join(ROOT, 'dist/scripts/lib/wg-interop-peer.js'),
      '--private-key', encodeKeyBase64(ours),
      '--peer-public-key', theirs.publicKey,
      '--peer-endpoint', '198.18.99.2:51820',
      '--listen-port', '51820',
      '--src', '198.19.99.1',
      '--dst', '198.19.99.2',
      '--count', '5',
    ], 30_000);
    expect(r.code, `${r.stdout}\n${r.stderr}\n${wg?.logs()}`).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { handshake: boolean; sent: number; received: number };
    expect(result.handshake).toBe(true);
    expect(result.received).toBe(result.sent);
    const show = await wgShow(NS[1], 'vswgi0');
    expect(show.peers[0]!.latestHandshakeSec).toBeGreaterThan(0);
    expect(show.peers[0]!.rxBytes).toBeGreaterThan(0);
  });
});
