/**
 * A standby Proxy (Proxy HA) refuses what only the active one does — a policy's registration, its changes and its
 * event stream — naming the active one, so a client goes there: HTTP 421 (Misdirected Request) `proxy-standby`, with the active
 * Proxy's name and epoch in the detail and in the `Vswitch-Active-Proxy` / `Vswitch-Active-Epoch` headers (absent
 * when the standby knows of no active one yet). The desired state is in etcd: the active one has the policy already.
 */
import { VswitchError } from '../errors.js';
import type { ElectionLeader } from './proxy-election.js';

export class ProxyStandbyError extends VswitchError {
  constructor(
    readonly self: string,
    readonly leader: ElectionLeader | undefined,
  ) {
    super(
      'proxy-standby',
      leader
        ? `this proxy (${self}) is a standby: the active proxy is ${leader.name} (epoch ${leader.epoch}); register policies and read their events there`
        : `this proxy (${self}) is not active (yet): retry, or try the other proxies`,
      { httpStatus: 421 },
    );
  }

  override responseHeaders(): Record<string, string> {
    return this.leader ? { 'vswitch-active-proxy': this.leader.name, 'vswitch-active-epoch': String(this.leader.epoch), 'retry-after': '1' } : { 'retry-after': '1' };
  }
}
