/**
 * The daemon's configuration, as the rest of the code sees it: complete, with
 * defaults filled in and every value checked. Only `load-config.ts` builds it.
 */
export type Role = 'host' | 'proxy';

export interface TapPortConfig {
  type: 'tap';
  name: string;
  mtu: number;
}

export interface CapturePortConfig {
  type: 'capture';
  name: string;
  interface: string;
  promiscuous: boolean;
  /** Classic BPF program ([code, jt, jf, k] per instruction, as `tcpdump -dd` prints): only matching frames are captured. */
  bpf?: { code: number; jt: number; jf: number; k: number }[];
}

export type PortConfig = TapPortConfig | CapturePortConfig;

export interface ApiConfig {
  /** "host:port" or "unix:/path/to.sock". */
  listen: string;
  /** Bearer tokens; when any exist, every API request needs one. Required unless `listen` is loopback or unix. */
  tokens: ApiTokenConfig[];
}

export interface ApiTokenConfig {
  /** Who the token is: logged with every change made with it. */
  name: string;
  token: string;
  /** A read-only token may only read (GET); changes get 403. */
  readOnly: boolean;
}

export interface SwitchConfig {
  macIdleTimeS: number;
  macMaxEntries: number;
  maxFrameBytes: number;
  /**
   * Flow offload (switch/offload/): the addon forwards frames of flows the core already decided, without
   * waking JS. On by default when the addon loads; false keeps every frame in JS.
   */
  offload: boolean;
}

export type LinkTransportMode = 'udp' | 'tcp' | 'auto';

export interface PeerConfig {
  name: string;
  /** Curve25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  presharedKey?: Uint8Array;
  /** "host:port" for UDP (and TCP, unless tcpEndpoint says otherwise). */
  endpoint?: { host: string; port: number };
  tcpEndpoint?: { host: string; port: number };
  transport: LinkTransportMode;
  persistentKeepaliveS?: number;
}

export interface LinkListenConfig {
  udp: { host: string; port: number };
  /** TCP fallback listener; absent = no TCP. */
  tcp?: { host: string; port: number };
}

export interface DaemonConfig {
  name: string;
  role: Role;
  /** On a host: the name of the peer that is the Proxy (the star's centre; the default rule points there). */
  proxy?: string;
  /** Curve25519 private key, 32 bytes; required when there are peers. */
  privateKey?: Uint8Array;
  listen: LinkListenConfig;
  peers: PeerConfig[];
  api: ApiConfig;
  switch: SwitchConfig;
  ports: PortConfig[];
  log: { level: LogLevel };
  vttif: VttifConfig;
  fastpath: FastPathConfig;
  /** In-process plugin modules (Proxy only), loaded at start: plugins/host/module-loader.ts. */
  plugins: PluginModuleConfig[];
}

export interface PluginModuleConfig {
  name: string;
  /** Absolute path of an ES module exporting a PluginFactory (default export or `createPlugin`). */
  module: string;
  enabled: boolean;
  options: Record<string, unknown>;
}

/**
 * The fast-path adaptation policy (plugins/fastpath), on a Proxy with VTTIF. Off by default: the star alone until
 * the config (or PUT /v1/plugins/fastpath) turns it on.
 */
export interface FastPathConfig {
  enabled: boolean;
  /** Fast-path links at most per host (0..1000; 7 = all pairs of 8 hosts). */
  maxLinksPerHost: number;
  /** Fast-path links at most in all (default 1000). */
  maxLinks: number;
  /** A pair's link goes once the pair has been absent from VTTIF's topology this long. */
  removeAfterMs: number;
  /** A pair must be in the topology this long before its link is added. */
  addAfterMs: number;
}

/**
 * VTTIF (traffic inference): hosts count per (src, dst) MAC and send their matrix at updateRateHz; the Proxy uses
 * all three parameters. `enabled: false` = no counting at all (the data path is untouched).
 */
export interface VttifConfig {
  enabled: boolean;
  /** 1..20 Hz. */
  updateRateHz: number;
  /** Proxy's smoothing window; absent = derived from the config-time bound (max(1000, 2 × bound)). */
  smoothingMs?: number;
  /** 0..1: fraction of the heaviest pair's intensity an edge needs. */
  threshold: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const DEFAULT_API_LISTEN = '127.0.0.1:7000';
export const DEFAULT_LINK_PORT = 51820;
