/**
 * The five per-peer timers of WireGuard (whitepaper §6; wireguard-go
 * `device/timers.go`, itself "based heavily on timers.c from the kernel
 * implementation"), as polled deadlines instead of scheduled callbacks.
 *
 * Events (method names follow wireguard-go's timers* functions) arm or disarm
 * deadlines; the device's tick() runs whatever is due and nextDeadlineMs()
 * tells the edge when to call it. Jitter is passed in (drawn from the injected
 * random source by the caller).
 *
 *   retransmitHandshake  Rekey-Timeout + jitter after an initiation, until answered
 *   sendKeepalive        Keepalive-Timeout after data received with nothing sent back
 *   newHandshake         Keepalive-Timeout + Rekey-Timeout + jitter after data sent with nothing received
 *   zeroKeyMaterial      3 × Reject-After-Time after the last session was derived
 *   persistentKeepalive  the configured interval after any authenticated packet
 */
import { KEEPALIVE_TIMEOUT_MS, REKEY_TIMEOUT_MS, ZERO_KEY_MATERIAL_AFTER_MS } from './constants.js';

export type TimerName = 'retransmitHandshake' | 'sendKeepalive' | 'newHandshake' | 'zeroKeyMaterial' | 'persistentKeepalive';

/** Order in which due timers run within one tick. */
export const TIMER_NAMES: readonly TimerName[] = [
  'retransmitHandshake',
  'sendKeepalive',
  'newHandshake',
  'zeroKeyMaterial',
  'persistentKeepalive',
];

export class PeerTimers {
  /** Deadline per timer in monotonic ms; undefined when not armed. */
  readonly deadlines: Record<TimerName, number | undefined> = {
    retransmitHandshake: undefined,
    sendKeepalive: undefined,
    newHandshake: undefined,
    zeroKeyMaterial: undefined,
    persistentKeepalive: undefined,
  };
  handshakeAttempts = 0;
  needAnotherKeepalive = false;
  sentLastMinuteHandshake = false;

  /** 0 disables persistent keepalives. */
  constructor(public persistentKeepaliveMs: number) {}

  isArmed(name: TimerName): boolean {
    return this.deadlines[name] !== undefined;
  }

  arm(name: TimerName, atMs: number): void {
    this.deadlines[name] = atMs;
  }

  disarm(name: TimerName): void {
    this.deadlines[name] = undefined;
  }

  /** Disarms and returns true if `name` is due at nowMs. */
  takeIfDue(name: TimerName, nowMs: number): boolean {
    const at = this.deadlines[name];
    if (at === undefined || at > nowMs) return false;
    this.deadlines[name] = undefined;
    return true;
  }

  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const name of TIMER_NAMES) {
      const at = this.deadlines[name];
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  stopAll(): void {
    for (const name of TIMER_NAMES) this.deadlines[name] = undefined;
  }

  // ---- events --------------------------------------------------------------------

  /** A transport packet with a payload was sent. */
  dataSent(nowMs: number, jitterMs: number): void {
    if (!this.isArmed('newHandshake')) this.arm('newHandshake', nowMs + KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + jitterMs);
  }

  /** A transport packet with a payload was received. */
  dataReceived(nowMs: number): void {
    if (!this.isArmed('sendKeepalive')) this.arm('sendKeepalive', nowMs + KEEPALIVE_TIMEOUT_MS);
    else this.needAnotherKeepalive = true;
  }

  /** Any authenticated packet (handshake or transport, keepalive included) was sent. */
  anyAuthenticatedPacketSent(): void {
    this.disarm('sendKeepalive');
  }

  anyAuthenticatedPacketReceived(): void {
    this.disarm('newHandshake');
  }

  /** Any authenticated packet went either way. */
  anyAuthenticatedPacketTraversal(nowMs: number): void {
    if (this.persistentKeepaliveMs > 0) this.arm('persistentKeepalive', nowMs + this.persistentKeepaliveMs);
  }

  handshakeInitiated(nowMs: number, jitterMs: number): void {
    this.arm('retransmitHandshake', nowMs + REKEY_TIMEOUT_MS + jitterMs);
  }

  handshakeComplete(): void {
    this.disarm('retransmitHandshake');
    this.handshakeAttempts = 0;
    this.sentLastMinuteHandshake = false;
  }

  sessionDerived(nowMs: number): void {
    this.arm('zeroKeyMaterial', nowMs + ZERO_KEY_MATERIAL_AFTER_MS);
  }
}
