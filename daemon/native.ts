/**
 * The native edge (the addon), as the composition root sees it: loaded once by `vswitch up` and handed to the
 * daemon (DaemonDeps.native), never reached for from inside the switch. A daemon without it runs on Node's own I/O
 * and crypto — what every unit test does, since only the root loads it. A load that fails is logged with its
 * reason, so "offload off" is never a mystery. The switches for measuring one path against another are read here,
 * once: VSWITCH_NATIVE_UDP=0 (Node's dgram), VSWITCH_NATIVE_TCP=0 (node:net carries TCP links' messages),
 * VSWITCH_NATIVE_AEAD=0 (node:crypto), VSWITCH_OFFLOAD=0 (no flow offload), VSWITCH_TCP_NOTSENT_LOWAT=BYTES (the
 * native TCP streams' TCP_NOTSENT_LOWAT; unset or 0: the kernel's default — docs/bench-link.md says what it did).
 */
import type { Logger } from '../switch/log.js';
import type { FrameSegmenter } from '../switch/frame/frame-segmenter.js';
import { createNativeAead, createNativeSegmenter, loadAddon, type NativeAddon } from '../switch/port/addon.js';
import { nodeAeadProvider, type AeadProvider } from '../switch/link/noise/crypto.js';
import type { Transport } from '../switch/link/transport/transport.js';
import { createNativeUdpTransport } from '../switch/link/transport/native-udp-transport.js';
import { createUdpTransport } from '../switch/link/transport/udp-transport.js';
import { createTcpTransport } from '../switch/link/transport/tcp-transport.js';

export interface NativeEdge {
  readonly addon: NativeAddon;
  /** The link's ChaCha20-Poly1305 for keypairs kept in JS (the addon's reused OpenSSL contexts). */
  readonly aead: AeadProvider;
  /** UDP links on the addon's recvmmsg/sendmmsg socket. */
  readonly useNativeUdp: boolean;
  /** TCP links' connections on the addon's StreamHandles once up (Node still listens, accepts and dials). */
  readonly useNativeTcp: boolean;
  /** TCP_NOTSENT_LOWAT of the native streams (0: the kernel's default). */
  readonly tcpNotSentLowatBytes: number;
  /** Flow offload allowed (the config may still turn it off). */
  readonly allowOffload: boolean;
  /** Cuts the super-frames of TAPs with offloads for ports that take no virtio-net headers (links). */
  readonly segmenter: FrameSegmenter;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Loads the addon once; undefined (logged with the reason) when it cannot load. */
export function loadNativeEdge(env: Env, log: Logger, addonFile?: string): NativeEdge | undefined {
  let addon: NativeAddon;
  try {
    addon = loadAddon(addonFile);
  } catch (err) {
    log.warn('native addon not loaded: running on node:dgram and node:crypto, no flow offload', { err });
    return undefined;
  }
  const edge: NativeEdge = {
    addon,
    aead: env['VSWITCH_NATIVE_AEAD'] === '0' ? nodeAeadProvider : createNativeAead(addon, nodeAeadProvider),
    useNativeUdp: env['VSWITCH_NATIVE_UDP'] !== '0',
    useNativeTcp: env['VSWITCH_NATIVE_TCP'] !== '0' && typeof addon.StreamHandle === 'function',
    tcpNotSentLowatBytes: notSentLowatFrom(env, log),
    allowOffload: env['VSWITCH_OFFLOAD'] !== '0' && typeof addon.createOffload === 'function',
    segmenter: createNativeSegmenter(addon),
  };
  log.info('native addon loaded', { aead: edge.aead.name, nativeUdp: edge.useNativeUdp, nativeTcp: edge.useNativeTcp, offload: edge.allowOffload });
  return edge;
}

/** Real sockets: UDP through the addon when it is there (and allowed), else Node's dgram; TCP on node:net, its open connections on the addon's streams when allowed. */
export function realTransports(native: NativeEdge | undefined): (kind: 'udp' | 'tcp', listen?: { host: string; port: number }) => Transport {
  return (kind, listen) => {
    if (kind === 'tcp') {
      const streams = native?.useNativeTcp ? { native: { addon: native.addon, notSentLowatBytes: native.tcpNotSentLowatBytes } } : {};
      return createTcpTransport({ ...(listen ? { listen } : {}), ...streams });
    }
    const udpListen = listen ?? { host: '0.0.0.0', port: 0 };
    return native?.useNativeUdp ? createNativeUdpTransport({ listen: udpListen }, native.addon) : createUdpTransport({ listen: udpListen });
  };
}

/** VSWITCH_TCP_NOTSENT_LOWAT: a byte count (0..64 MiB); anything else is logged and ignored (the kernel's default). */
function notSentLowatFrom(env: Env, log: Logger): number {
  const raw = env['VSWITCH_TCP_NOTSENT_LOWAT'];
  if (raw === undefined || raw === '') return 0;
  const bytes = Number(raw);
  if (/^[0-9]+$/.test(raw) && bytes <= 64 * 1024 * 1024) return bytes;
  log.warn('VSWITCH_TCP_NOTSENT_LOWAT ignored: not a byte count in 0..67108864', { value: raw.slice(0, 40) });
  return 0;
}
