/**
 * Proves the wireguard-go harness: two real wireguard-go peers in two namespaces joined by a veth underlay
 * complete a handshake and carry ping. Interop tests later replace one side with a vswitch link.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from './support/lab.js';
import {
  WIREGUARD_SOCKET_DIR,
  type WireguardGo,
  generateWireguardKeyPair,
  startWireguardGo,
  wgShow,
} from './support/wireguard-go.js';

// Names unique to this process: namespaces are vs-*, and wireguard-go's socket path is global (see the helper).
const tag = String(process.pid % 100_000);
const NS = [`vs-wgs${tag}-a`, `vs-wgs${tag}-b`] as const;
const IF = [`vswgs${tag}a`, `vswgs${tag}b`] as const;
const UNDERLAY = ['198.18.77.1', '198.18.77.2'] as const;
const OVERLAY = ['198.19.77.1', '198.19.77.2'] as const;
const PORT = 51820;

function sh(...args: string[]): { code: number; out: string } {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function mustSh(...args: string[]): void {
  const r = sh(...args);
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.out}`);
}

function removeNamespaces(): void {
  for (const ns of NS) sh('ip', 'netns', 'del', ns);
}

describe('wireguard-go harness (two real peers)', () => {
  const peers: WireguardGo[] = [];
  const keys = [generateWireguardKeyPair(), generateWireguardKeyPair()] as const;

  beforeAll(async () => {
    requireRoot();
    if (sh('which', 'wireguard-go').code !== 0 || sh('which', 'wg').code !== 0) {
      throw new Error('wireguard-go and wg are needed: apt-get install -y wireguard-go wireguard-tools');
    }
    removeNamespaces();
    for (const ns of NS) {
      mustSh('ip', 'netns', 'add', ns);
      mustSh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    mustSh('ip', '-n', NS[0], 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul0', 'netns', NS[1]);
    for (const i of [0, 1] as const) {
      mustSh('ip', '-n', NS[i], 'addr', 'add', `${UNDERLAY[i]}/24`, 'dev', 'ul0');
      mustSh('ip', '-n', NS[i], 'link', 'set', 'ul0', 'up');
    }
    for (const i of [0, 1] as const) {
      const j = 1 - i;
      peers.push(
        await startWireguardGo({
          ns: NS[i],
          ifname: IF[i],
          privateKey: keys[i].privateKey,
          listenPort: PORT,
          address: `${OVERLAY[i]}/24`,
          // Only the first side knows where the other is: the second learns the endpoint from the handshake.
          peer: {
            publicKey: keys[j]!.publicKey,
            allowedIps: [`${OVERLAY[j]}/32`],
            ...(i === 0 ? { endpoint: `${UNDERLAY[1]}:${PORT}` } : {}),
          },
        }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    removeNamespaces();
  });

  it('reports the public key wg derives from the private key', () => {
    const derived = spawnSync('wg', ['pubkey'], { input: `${keys[0].privateKey}\n`, encoding: 'utf8' });
    expect(peers[0]?.publicKey).toBe(derived.stdout.trim());
  });

  it('pings across the tunnel', () => {
    const r = sh('ip', 'netns', 'exec', NS[0], 'ping', '-c', '5', '-i', '0.2', '-W', '2', OVERLAY[1]);
    expect(r.code, r.out + peers.map((p) => p.logs()).join('')).toBe(0);
  });

  it('shows a completed handshake and traffic both ways in wg show', async () => {
    for (const i of [0, 1] as const) {
      const show = await wgShow(NS[i], IF[i]);
      expect(show.publicKey).toBe(keys[i].publicKey);
      expect(show.listenPort).toBe(PORT);
      expect(show.peers).toHaveLength(1);
      const peer = show.peers[0];
      expect(peer?.publicKey).toBe(keys[1 - i]!.publicKey);
      expect(peer?.allowedIps).toEqual([`${OVERLAY[1 - i]}/32`]);
      expect(peer?.latestHandshakeSec).toBeGreaterThan(0);
      expect(peer?.rxBytes).toBeGreaterThan(0);
      expect(peer?.txBytes).toBeGreaterThan(0);
    }
    // The answering side learned the initiator's endpoint from the handshake.
    expect((await wgShow(NS[1], IF[1])).peers[0]?.endpoint).toBe(`${UNDERLAY[0]}:${PORT}`);
  });

  it('rejects with WIREGUARD_GO_START_FAILED when wireguard-go cannot start', async () => {
    const failed = startWireguardGo({
      ns: `vs-wgs${tag}-missing`,
      ifname: `vswgs${tag}x`,
      privateKey: keys[0].privateKey,
      listenPort: PORT,
      address: '198.19.77.9/24',
      peer: { publicKey: keys[1].publicKey, allowedIps: ['198.19.77.10/32'] },
    });
    await expect(failed).rejects.toMatchObject({ name: 'WireguardGoError', code: 'WIREGUARD_GO_START_FAILED' });
  });

  it('stops the daemons it started and removes their sockets', async () => {
    await Promise.all(peers.map((p) => p.stop()));
    for (const p of peers) {
      expect(existsSync(`/proc/${p.pid}`)).toBe(false);
      expect(existsSync(`${WIREGUARD_SOCKET_DIR}/${p.ifname}.sock`)).toBe(false);
    }
  });
});
