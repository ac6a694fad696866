/**
 * etcd in memory, for tests: one store with revisions and leases that expire on an injected clock, and clients
 * that can be cut from it (every call then fails as an unreachable cluster does). Only what etcd.ts asks for.
 * A test may also `put` into the cluster directly (a value another writer, or an attacker, left there).
 */
import type { Clock } from '../clock.js';
import { EtcdRefusedError, EtcdUnavailableError } from './etcd-gateway.js';
import type { CreateResult, Etcd, EtcdKeyValue, EtcdOp } from './etcd.js';

interface Lease {
  ttlS: number;
  expiresAtMs: number;
}

export class MemoryEtcdCluster {
  private revision = 1;
  private nextLease = 1000;
  private readonly keys = new Map<string, EtcdKeyValue>();
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly clock: Clock) {}

  client(): MemoryEtcdClient {
    return new MemoryEtcdClient(this);
  }

  /** Leases past their TTL are gone, with their keys (etcd's lessor does this on its own). */
  expire(): void {
    const now = this.clock.now();
    for (const [id, lease] of this.leases) {
      if (lease.expiresAtMs > now) continue;
      this.leases.delete(id);
      for (const [key, kv] of this.keys) if (kv.lease === id) this.keys.delete(key);
    }
  }

  grantLease(ttlS: number): string {
    const id = String(this.nextLease++);
    this.leases.set(id, { ttlS, expiresAtMs: this.clock.now() + ttlS * 1000 });
    return id;
  }

  keepAlive(id: string): number {
    this.expire();
    const lease = this.leases.get(id);
    if (!lease) return 0;
    lease.expiresAtMs = this.clock.now() + lease.ttlS * 1000;
    return lease.ttlS;
  }

  revokeLease(id: string): void {
    const lease = this.leases.get(id);
    if (lease) lease.expiresAtMs = Number.NEGATIVE_INFINITY;
    this.expire();
  }

  createIfAbsent(key: string, value: string, lease: string): CreateResult {
    this.expire();
    const holder = this.keys.get(key);
    if (holder) return { created: false, holder: { ...holder } };
    if (!this.leases.has(lease)) throw new EtcdRefusedError(`etcd: /v3/kv/txn refused: requested lease not found`);
    const revision = ++this.revision;
    this.keys.set(key, { key, value, createRevision: revision, modRevision: revision, lease });
    return { created: true, revision };
  }

  get(key: string): EtcdKeyValue | undefined {
    this.expire();
    const kv = this.keys.get(key);
    return kv ? { ...kv } : undefined;
  }

  put(key: string, value: string): number {
    return this.apply([{ key, value }]);
  }

  range(prefix: string): EtcdKeyValue[] {
    this.expire();
    return [...this.keys.values()].filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((kv) => ({ ...kv }));
  }

  /** One transaction: one revision for all of its operations (as etcd). */
  apply(ops: readonly EtcdOp[]): number {
    const revision = ++this.revision;
    for (const { key, value } of ops) {
      const old = this.keys.get(key);
      if (value === null) this.keys.delete(key);
      else this.keys.set(key, { key, value, createRevision: old?.createRevision ?? revision, modRevision: revision, lease: '0' });
    }
    return revision;
  }
}

export class MemoryEtcdClient implements Etcd {
  /** Cut from the cluster: every call fails (a partition, a firewall). */
  cut = false;
  calls = 0;

  constructor(private readonly cluster: MemoryEtcdCluster) {}

  private reach(): MemoryEtcdCluster {
    this.calls++;
    if (this.cut) throw new EtcdUnavailableError('etcd: no member answered (cut)');
    return this.cluster;
  }

  grantLease(ttlS: number): Promise<string> {
    return Promise.resolve().then(() => this.reach().grantLease(ttlS));
  }
  keepAlive(lease: string): Promise<number> {
    return Promise.resolve().then(() => this.reach().keepAlive(lease));
  }
  revokeLease(lease: string): Promise<void> {
    return Promise.resolve().then(() => this.reach().revokeLease(lease));
  }
  createIfAbsent(key: string, value: string, lease: string): Promise<CreateResult> {
    return Promise.resolve().then(() => this.reach().createIfAbsent(key, value, lease));
  }
  get(key: string): Promise<EtcdKeyValue | undefined> {
    return Promise.resolve().then(() => this.reach().get(key));
  }
  put(key: string, value: string): Promise<number> {
    return Promise.resolve().then(() => this.reach().put(key, value));
  }
  range(prefix: string): Promise<EtcdKeyValue[]> {
    return Promise.resolve().then(() => this.reach().range(prefix));
  }
  apply(ops: readonly EtcdOp[]): Promise<number> {
    return Promise.resolve().then(() => this.reach().apply(ops));
  }
}
