/**
 * One side of the wire-compatibility test with a real WireGuard peer: runs our
 * LinkManager (WireGuard's protocol, our code) over UDP, handshakes with the
 * peer, sends ICMP echo requests as raw IPv4 payloads (what a WireGuard peer
 * expects inside its tunnel) and counts the echo replies that come back.
 *
 *   node dist/scripts/lib/wg-interop-peer.js --private-key B64 --peer-public-key B64
 *     --peer-endpoint 198.18.99.2:51820 --listen-port 51820 --src 198.19.99.1 --dst 198.19.99.2 [--count 5]
 * Prints one JSON line {handshake, sent, received, rttMs} and exits 0 when at least one reply came back.
 */
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../switch/clock.js';
import { LinkManager } from '../../switch/link/link-manager.js';
import { decodeKeyBase64 } from '../../switch/link/noise/crypto.js';
import { parseEndpoint } from '../../switch/link/transport/endpoint.js';
import { createUdpTransport } from '../../switch/link/transport/udp-transport.js';
import { createLogger } from '../../switch/log.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

function checksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function echoRequest(src: string, dst: string, id: number, seq: number): Uint8Array {
  const packet = new Uint8Array(20 + 8 + 32);
  const view = new DataView(packet.buffer);
  packet[0] = 0x45;
  view.setUint16(2, packet.length);
  packet[8] = 64; // TTL
  packet[9] = 1; // ICMP
  packet.set(src.split('.').map(Number), 12);
  packet.set(dst.split('.').map(Number), 16);
  view.setUint16(10, checksum(packet, 0, 20));
  packet[20] = 8; // echo request
  view.setUint16(24, id);
  view.setUint16(26, seq);
  view.setUint16(22, checksum(packet, 20, packet.length));
  return packet;
}

async function main(): Promise<void> {
  const src = arg('src');
  const dst = arg('dst');
  const count = Number(arg('count', '5'));
  const id = process.pid & 0xffff;
  const sentAt = new Map<number, number>();
  const rttMs: number[] = [];
  const peerEndpoint = parseEndpoint(arg('peer-endpoint'));
  const links = new LinkManager({
    privateKey: decodeKeyBase64(arg('private-key')),
    udp: createUdpTransport({ listen: { host: '0.0.0.0', port: Number(arg('listen-port', '51820')) } }),
    clock: systemClock,
    wallClock: Date.now,
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    log: createLogger({ level: 'warn' }),
    onIp: (_peer, packet) => {
      // An echo reply (type 0) to one of our requests.
      if (packet[9] !== 1 || packet[20] !== 0) return;
      const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
      if (view.getUint16(24) !== id) return;
      const at = sentAt.get(view.getUint16(26));
      if (at !== undefined) rttMs.push(Math.round((performance.now() - at) * 1000) / 1000);
    },
  });
  links.addPeer({ name: 'wg', publicKey: decodeKeyBase64(arg('peer-public-key')), transport: 'udp', udpEndpoint: peerEndpoint });
  await links.start();
  for (let seq = 1; seq <= count; seq++) {
    sentAt.set(seq, performance.now());
    links.sendIp('wg', echoRequest(src, dst, id, seq));
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 500));
  const status = links.status()[0]!;
  console.log(JSON.stringify({ handshake: status.state === 'up', sent: count, received: rttMs.length, rttMs, link: status }));
  await links.stop();
  process.exit(rttMs.length > 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
