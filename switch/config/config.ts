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
}

export type PortConfig = TapPortConfig | CapturePortConfig;

export interface ApiConfig {
  /** "host:port" or "unix:/path/to.sock". */
  listen: string;
}

export interface SwitchConfig {
  macIdleTimeS: number;
  macMaxEntries: number;
  maxFrameBytes: number;
}

export interface DaemonConfig {
  name: string;
  role: Role;
  api: ApiConfig;
  switch: SwitchConfig;
  ports: PortConfig[];
  log: { level: LogLevel };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const DEFAULT_API_LISTEN = '127.0.0.1:7000';
