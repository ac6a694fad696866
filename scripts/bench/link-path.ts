/**
 * The link's per-frame JavaScript cost, without sockets: two LinkManagers joined
 * by the in-memory transport, frames pushed through one LinkPort in batches
 * (as the datapath hands them over) and counted at the other. Both ends run in
 * this process, so a frame's figure is its whole JS path: payload encoding,
 * seal, transport hand-off, parse, replay check, open, payload decoding,
 * delivery. Kernel costs (TAP, UDP, the underlay) are NOT in it: measure those
 * with scripts/bench/link.
 *
 * Run: `npx tsc -p tsconfig.build.json && node dist/scripts/bench/link-path.js [--json]`
 * Cases: AEAD provider (node:crypto, and the addon's when it is built) × frame size.
 */
import { systemClock } from '../../switch/clock.js';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { LinkManager } from '../../switch/link/link-manager.js';
import { generatePrivateKey, nodeAeadProvider, publicKey, type AeadProvider } from '../../switch/link/noise/crypto.js';
import { jsKeypairSlotsWith } from '../../switch/link/noise/keypair.js';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../switch/log.js';
import { createNativeAead, loadAddon } from '../../switch/port/addon.js';

const BATCH_FRAMES = 64;
const SAMPLE_FRAMES = 64 * 500;
const SAMPLES = 5;
const FRAME_SIZES = [1434, 74];

interface Row {
  aead: string;
  frameBytes: number;
  microsPerFrame: number;
  framesPerSecond: number;
  gbitPerSecond: number;
}

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));

async function measure(frameBytes: number, aead: AeadProvider): Promise<number> {
  const network = new MemoryNetwork();
  const keys = [generatePrivateKey(randomBytes), generatePrivateKey(randomBytes)] as const;
  const hosts = ['198.18.0.1', '198.18.0.2'] as const;
  const clock = systemClock;
  const managers = keys.map(
    (privateKey, i) =>
      new LinkManager({
        privateKey,
        udp: network.createTransport({ kind: 'udp', listen: { host: hosts[i]!, port: 51820 } }),
        keypairSlots: jsKeypairSlotsWith(aead),
        clock,
        wallClock: Date.now,
        randomBytes,
        log: createLogger({ write: () => {} }),
      }),
  );
  let delivered = 0;
  const ports = managers.map((m, i) => {
    const other = 1 - i;
    const port = m.addPeer({
      name: `h${other + 1}`,
      publicKey: publicKey(keys[other]!),
      transport: 'udp',
      udpEndpoint: { transport: 'udp', host: hosts[other]!, port: 51820 },
    });
    port.start({ frames: (frames) => (delivered += frames.length), error: () => {} });
    return port;
  });
  for (const m of managers) await m.start();
  await new Promise((resolve) => setTimeout(resolve, 20));

  const frame = new Uint8Array(frameBytes).fill(0xab);
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const batch = Array.from({ length: BATCH_FRAMES }, () => frame);
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES + 1; s++) {
    delivered = 0;
    const start = performance.now();
    for (let sent = 0; sent < SAMPLE_FRAMES; sent += BATCH_FRAMES) {
      ports[0]!.send(batch);
      // The memory network delivers on setImmediate: let each batch land, as a socket wake-up would.
      await new Promise((resolve) => setImmediate(resolve));
    }
    while (delivered < SAMPLE_FRAMES) await new Promise((resolve) => setImmediate(resolve));
    if (s > 0) samples.push(((performance.now() - start) * 1000) / SAMPLE_FRAMES); // first sample warms up
  }
  for (const m of managers) await m.stop();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

async function main(): Promise<void> {
  const isJson = process.argv.includes('--json');
  const providers = [nodeAeadProvider];
  try {
    providers.push(createNativeAead(loadAddon(), nodeAeadProvider));
  } catch {
    if (!isJson) console.log('(addon not built: node:crypto only)');
  }
  const rows: Row[] = [];
  for (const provider of providers) {
    for (const frameBytes of FRAME_SIZES) {
      const micros = await measure(frameBytes, provider);
      rows.push({
        aead: provider.name,
        frameBytes,
        microsPerFrame: micros,
        framesPerSecond: 1e6 / micros,
        gbitPerSecond: (frameBytes * 8 * 1e6) / micros / 1e9,
      });
    }
  }
  if (isJson) {
    console.log(JSON.stringify({ node: process.version, batchFrames: BATCH_FRAMES, rows }, null, 2));
    return;
  }
  console.log(`link path, JS only (memory transport), batches of ${BATCH_FRAMES}, median of ${SAMPLES}, node ${process.version}`);
  for (const r of rows) {
    console.log(
      `${r.aead.padEnd(36)} ${String(r.frameBytes).padStart(5)} B  ${r.microsPerFrame.toFixed(2).padStart(6)} µs/frame  ` +
        `${Math.round(r.framesPerSecond).toLocaleString('en-US').padStart(9)} frames/s  ${r.gbitPerSecond.toFixed(2)} Gbit/s`,
    );
  }
}

await main();
