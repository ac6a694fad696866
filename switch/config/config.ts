/**
 * The daemon's configuration, as the rest of the code sees it: complete, with
 * defaults filled in and every value checked. Only `load-config.ts` builds it.
 */
export type Role = 'host' | 'proxy';

export interface TapPortConfig {
  type: 'tap';
  name: string;
  mtu: number;
  /**
   * TSO/GSO offloads (IFF_VNET_HDR + TUNSETOFFLOAD, switch/port/tap-port.ts): the VM hands over TCP/UDP super-frames
   * of up to 64 KiB with checksums left to complete, forwarded as they are to another such TAP and cut into wire
   * frames for any other port. Off unless set (docs/offloads.md).
   */
  offloads?: boolean;
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

/**
 * The Proxy's join listener (switch/join/): hosts join the overlay with a token, over TLS with a pinned certificate.
 * Absent: no listener, and hosts come from `peers` only.
 */
export interface JoinConfig {
  /** Where the join listener listens ("IP:PORT"). */
  listen: { host: string; port: number };
  /** What join tokens carry: where hosts reach the listener (default: `listen`, unless it is a wildcard address). */
  advertise: { host: string; port: number };
  /**
   * The join state: the certificate and its key, the tokens' digests, the joined hosts (default
   * <stateDir>/join, else /var/lib/vswitch/NAME/join: beside the durable state).
   */
  dir: string;
}

/** A Proxy's election on etcd (switch/ha/proxy-election.ts). */
export interface HaConfig {
  /** Client URLs of the etcd members. */
  etcd: string[];
  /** The lease's TTL: how long a dead active Proxy holds the key (default 2000; etcd counts whole seconds). */
  leaseTtlMs: number;
  /** The election key, shared by the Proxies of one overlay. */
  key: string;
}

export interface DaemonConfig {
  name: string;
  role: Role;
  /** On a host: the name of the peer that is the Proxy (the star's centre; the default rule points there). */
  proxy?: string;
  /** On a host with several Proxies (Proxy HA; `proxy: [a, b]`): all of them, `proxy` first. */
  proxies?: string[];
  /** On a Proxy: its election on etcd (switch/ha/); absent: the only Proxy, always active. */
  ha?: HaConfig;
  /** Curve25519 private key, 32 bytes; required when there are peers. */
  privateKey?: Uint8Array;
  listen: LinkListenConfig;
  peers: PeerConfig[];
  /** Proxy only: the join listener; absent when the config has no `join:`. */
  join?: JoinConfig;
  api: ApiConfig;
  switch: SwitchConfig;
  ports: PortConfig[];
  log: { level: LogLevel };
  /** The plugins' own sections (switch/config/config-section.ts), by key, as each one's reader returned them. */
  sections: ReadonlyMap<string, unknown>;
  /** In-process plugin modules (Proxy only), loaded at start: plugins/host/module-loader.ts. */
  plugins: PluginModuleConfig[];
  /**
   * Where the daemon saves its run-time changes (switch/state/; docs/state.md), absolute. Absent: the default,
   * /var/lib/vswitch/NAME (DEFAULT_STATE_ROOT); `vswitch up --state-dir` overrides both.
   */
  stateDir?: string;
}

export interface PluginModuleConfig {
  name: string;
  /** Absolute path of an ES module exporting a PluginFactory (default export or `createPlugin`). */
  module: string;
  enabled: boolean;
  options: Record<string, unknown>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const DEFAULT_API_LISTEN = '127.0.0.1:7000';
export const DEFAULT_LINK_PORT = 51820;
/** The daemons' state directories are DEFAULT_STATE_ROOT/NAME unless the config or the command line says otherwise. */
export const DEFAULT_STATE_ROOT = '/var/lib/vswitch';
