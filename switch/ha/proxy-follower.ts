/**
 * A host with several Proxies follows one: the one that announced the highest epoch (proxy-election.ts). Before
 * any announcement it follows the first Proxy of its config (epoch 0), as a single-Proxy host always does. An
 * announcement with an older epoch than one already followed is refused — that is the fencing that keeps two
 * Proxies which both believe they are active from splitting the hosts. The same epoch from another Proxy cannot
 * come from etcd (one key, one create revision) and is refused too. Pure: no time, no I/O.
 */
export type FollowResult =
  /** A newer epoch: followed (and `changed` when it is another Proxy). */
  | { kind: 'followed'; changed: boolean; previous: string }
  /** The epoch already followed, from the Proxy followed: nothing to do. */
  | { kind: 'same' }
  /** Older than the epoch followed, or the same epoch from another Proxy: refused. */
  | { kind: 'stale'; followedEpoch: number }
  /** The peer is none of this host's Proxies. */
  | { kind: 'not-a-proxy' };

export class ProxyFollower {
  private current: string;
  private currentEpoch = 0;
  private switches = 0;
  private refused = 0;

  constructor(private readonly proxies: readonly string[]) {
    if (proxies.length === 0) throw new Error('a proxy follower needs at least one proxy');
    this.current = proxies[0]!;
  }

  /** The Proxy this host follows: its default rule and its flood port are that Proxy's link. */
  get active(): string {
    return this.current;
  }

  get epoch(): number {
    return this.currentEpoch;
  }

  isProxy(peer: string): boolean {
    return this.proxies.includes(peer);
  }

  announced(peer: string, epoch: number): FollowResult {
    if (!this.isProxy(peer)) return { kind: 'not-a-proxy' };
    if (epoch === this.currentEpoch && peer === this.current) return { kind: 'same' };
    if (epoch <= this.currentEpoch) {
      this.refused++;
      return { kind: 'stale', followedEpoch: this.currentEpoch };
    }
    const previous = this.current;
    this.current = peer;
    this.currentEpoch = epoch;
    const changed = previous !== peer;
    if (changed) this.switches++;
    return { kind: 'followed', changed, previous };
  }

  stats(): { proxies: string[]; active: string; epoch: number; switches: number; refused: number } {
    return { proxies: [...this.proxies], active: this.current, epoch: this.currentEpoch, switches: this.switches, refused: this.refused };
  }
}
