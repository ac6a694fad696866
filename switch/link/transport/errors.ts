import { VswitchError } from '../../errors.js';

/**
 * Errors of the transport edge. Only configuration and socket setup throw or
 * reject; the per-message path counts drops in `stats().drops` instead.
 */

/** `start()` could not bind/listen (port taken, no permission, bad address). */
export class TransportListenError extends VswitchError {
  /** The OS error code (EADDRINUSE, EACCES, EADDRNOTAVAIL, ...), when there is one. */
  readonly osCode: string | undefined;

  constructor(
    readonly transport: string,
    readonly host: string,
    readonly port: number,
    osCode: string | undefined,
    options?: { cause?: unknown },
  ) {
    super('transport-listen', `${transport} transport cannot listen: ${listenFailureWhy(osCode)} (${host}:${port})`, options);
    this.osCode = osCode;
  }
}

function listenFailureWhy(osCode: string | undefined): string {
  switch (osCode) {
    case 'EADDRINUSE':
      return 'the address is already in use (EADDRINUSE)';
    case 'EACCES':
      return 'permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE (EACCES)';
    case 'EADDRNOTAVAIL':
      return 'no local interface has this address (EADDRNOTAVAIL)';
    case undefined:
      return 'the socket failed';
    default:
      return `the socket failed (${osCode})`;
  }
}

/** An endpoint string that is not `host:port` / `[v6]:port` with an optional `udp:`/`tcp:` prefix. */
export class EndpointParseError extends VswitchError {
  constructor(
    readonly text: string,
    why: string,
  ) {
    super('endpoint-parse', `cannot parse endpoint: ${why} (${JSON.stringify(text)})`);
  }
}

/** Transport or selector options out of range (a configuration error, thrown at construction). */
export class TransportOptionsError extends VswitchError {
  constructor(
    readonly option: string,
    why: string,
  ) {
    super('transport-options', `invalid transport option: ${why} (${option})`);
  }
}

/** `start()` called twice, or after `close()`. A programmer error. */
export class TransportStateError extends VswitchError {
  constructor(
    readonly transport: string,
    why: string,
  ) {
    super('transport-state', `${transport} transport cannot start: ${why}`);
  }
}
