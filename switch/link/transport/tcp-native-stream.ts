import type { Socket } from 'node:net';
import type { TimerClock } from '../../clock.js';
import type { NativeAddon, NativeStreamHandle } from '../../port/addon.js';

/**
 * The TCP transport on the addon's datapath (stream-handle.h): once a connection is up (accepted, or dialed and
 * connected) its socket is handed to a native StreamHandle, which parses and writes the 2-byte length framing,
 * keeps the bounded send queue and offers every message to the flow offload before JS sees it. Node keeps the
 * listener, accepting, dialing and timeouts of connecting; the transport keeps every decision.
 */
export interface TcpNativeStreamOptions {
  readonly addon: NativeAddon;
  /** The send queue's bound in framed bytes; a message past it is dropped ('tcp-backpressure'). */
  readonly maxQueueBytes: number;
  /** TCP_NOTSENT_LOWAT (0: the kernel's default). */
  readonly notSentLowatBytes: number;
  /** For the idle check of taken-over connections (Node's socket timeout goes with the socket). */
  readonly clock: TimerClock;
}

/** Node's handle of a TCP socket, as far as the takeover needs it (an internal of node:net, checked at run time). */
interface NodeTcpHandle {
  fd?: unknown;
  readStop?: () => unknown;
}

/**
 * Moves a connected socket's I/O to a new StreamHandle, or returns undefined (the socket untouched) when it cannot:
 * no fd (not a kernel socket), bytes already read by Node (they would be lost), or the addon refused it. Node's
 * socket is then destroyed: its fd closes, the StreamHandle's duplicate keeps the connection (no FIN is sent).
 */
export function takeOverSocket(socket: Socket, options: TcpNativeStreamOptions): NativeStreamHandle | undefined {
  const handle = (socket as unknown as { _handle?: NodeTcpHandle | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0 || socket.bytesRead > 0 || socket.readableLength > 0) return undefined;
  let stream: NativeStreamHandle;
  try {
    stream = new options.addon.StreamHandle(fd, options.maxQueueBytes, options.notSentLowatBytes);
  } catch {
    return undefined;
  }
  handle?.readStop?.();
  socket.removeAllListeners();
  socket.on('error', () => {}); // a late error of the discarded socket is no one's business
  socket.setTimeout(0);
  socket.destroy();
  return stream;
}
