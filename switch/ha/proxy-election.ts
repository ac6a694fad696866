/**
 * Which Proxy is active: an election on an etcd lease (issue 19 part 3).
 *
 * Every `leaseTtlMs / 4` the Proxy renews its lease (or takes a new one when it has none or it expired) and
 * campaigns: one transaction creates the election key on its lease if the key does not exist. The holder of the
 * key is active; its **epoch** is the key's create revision, which only grows — a fencing token. The hosts follow
 * the highest epoch they have been told (proxy-follower.ts), so two Proxies that both believe they are active can
 * never split them: the older one's word is refused.
 *
 * Cut from etcd, a Proxy keeps what it was: the active keeps serving (with the epoch it won; it never makes a new
 * one without etcd), the standby cannot win. Its lease expires on etcd's side after the TTL, so a standby that
 * still reaches etcd wins with a newer epoch; when the old active reaches etcd again it finds the key held by
 * another lease and steps down. A clean stop revokes the lease, so the standby takes over at its next step.
 */
import type { Timer, TimerClock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Etcd } from './etcd.js';
import { EtcdRefusedError } from './etcd-gateway.js';

export interface ElectionLeader {
  name: string;
  epoch: number;
}

export type ElectionRole = 'standby' | 'active';

export interface ElectionStatus {
  role: ElectionRole;
  /** Active: the epoch this Proxy won. */
  epoch?: number;
  /** Who holds the key, as last read (this Proxy when active). */
  leader?: ElectionLeader;
  /** Whether the last step reached etcd. */
  etcdReachable: boolean;
  /** Times this Proxy became active. */
  promotions: number;
  /** Times it stepped down (someone else holds a newer epoch). */
  demotions: number;
  /** Steps that failed to reach etcd. */
  etcdFailures: number;
}

export interface ProxyElectionOptions {
  etcd: Etcd;
  /** The election key, e.g. /vswitch/<overlay>/proxy/leader. */
  key: string;
  /** This Proxy's name (the key's value: who the standby sees as the leader). */
  name: string;
  /** The lease's TTL; etcd counts whole seconds (rounded up, at least 2: etcd's own floor with default timings). */
  leaseTtlMs: number;
  clock: TimerClock;
  log: Logger;
  /** Became active with this epoch (also called again with a newer one after a re-election). */
  onActive(epoch: number): void;
  /** Stopped being active: another Proxy holds the key. */
  onStandby(leader: ElectionLeader): void;
}

export class ProxyElection {
  private lease: string | undefined;
  private timer: Timer | undefined;
  private busy = false;
  private stopped = false;
  private readonly state: ElectionStatus = { role: 'standby', etcdReachable: false, promotions: 0, demotions: 0, etcdFailures: 0 };

  constructor(private readonly options: ProxyElectionOptions) {}

  /** Campaigns at once, then every TTL / 4. */
  start(): void {
    this.timer = this.options.clock.every(Math.max(100, Math.floor(this.options.leaseTtlMs / 4)), () => void this.step());
    void this.step();
  }

  /** Stops campaigning and, when etcd answers, gives the key up (revokes the lease). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    const lease = this.lease;
    this.lease = undefined;
    if (lease !== undefined) await this.options.etcd.revokeLease(lease).catch(() => undefined);
  }

  status(): ElectionStatus {
    return { ...this.state, ...(this.state.leader ? { leader: { ...this.state.leader } } : {}) };
  }

  get isActive(): boolean {
    return this.state.role === 'active';
  }

  /** One renewal and campaign; a step still running when the next is due is skipped (etcd is slow: no pile-up). */
  async step(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      await this.campaign();
      this.state.etcdReachable = true;
    } catch (err) {
      // etcd answered "no such lease" (it expired between the renewal and the transaction): a new one next step.
      if (err instanceof EtcdRefusedError) this.lease = undefined;
      // Unreachable (or an answer that makes no sense): keep what we are; nobody is elected without etcd.
      if (this.state.etcdReachable) this.options.log.warn('ha: etcd unreachable, keeping the current role', { role: this.state.role, err });
      this.state.etcdReachable = false;
      this.state.etcdFailures++;
    } finally {
      this.busy = false;
    }
  }

  private async campaign(): Promise<void> {
    const { etcd, key, name } = this.options;
    if (this.lease !== undefined && (await etcd.keepAlive(this.lease)) <= 0) this.lease = undefined; // expired
    this.lease ??= await etcd.grantLease(Math.max(2, Math.ceil(this.options.leaseTtlMs / 1000)));
    if (this.stopped) return;
    const result = await etcd.createIfAbsent(key, name, this.lease);
    if (this.stopped) return;
    if (result.created) return this.becomeActive(result.revision);
    const holder = result.holder;
    if (holder.lease === this.lease) return this.becomeActive(holder.createRevision);
    this.becomeStandby({ name: holder.value, epoch: holder.createRevision });
  }

  private becomeActive(epoch: number): void {
    const wasEpoch = this.state.role === 'active' ? this.state.epoch : undefined;
    this.state.leader = { name: this.options.name, epoch };
    if (wasEpoch === epoch) return;
    this.state.role = 'active';
    this.state.epoch = epoch;
    this.state.promotions++;
    this.options.log.info('ha: this proxy is active', { epoch, previousEpoch: wasEpoch });
    this.options.onActive(epoch);
  }

  private becomeStandby(leader: ElectionLeader): void {
    this.state.leader = leader;
    if (this.state.role !== 'active') return;
    this.state.role = 'standby';
    delete this.state.epoch;
    this.state.demotions++;
    this.options.log.info('ha: another proxy holds a newer epoch: standing by', { leader: leader.name, epoch: leader.epoch });
    this.options.onStandby(leader);
  }
}
