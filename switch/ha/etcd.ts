/**
 * What the Proxy election (proxy-election.ts) needs of etcd: a lease, a create-if-absent transaction on one key,
 * and reads; and what the desired state (desired-state.ts) needs: a prefix read and puts and deletes in one
 * transaction. The real one speaks etcd's JSON gRPC-gateway (etcd-gateway.ts); tests use an in-memory twin
 * (memory-etcd.ts) with the same semantics (revisions, leases that expire with a clock).
 */
export interface EtcdKeyValue {
  key: string;
  value: string;
  /** The revision that created the key: the election's epoch when the key is the election key. */
  createRevision: number;
  modRevision: number;
  /** The lease the key is attached to ('0': none). */
  lease: string;
}

export type CreateResult = { created: true; revision: number } | { created: false; holder: EtcdKeyValue };

export interface Etcd {
  /** A new lease of `ttlS` seconds; its id (etcd's int64, kept as decimal text). */
  grantLease(ttlS: number): Promise<string>;
  /** Renews the lease; its remaining TTL in seconds, 0 when the lease is gone (expired or revoked). */
  keepAlive(lease: string): Promise<number>;
  revokeLease(lease: string): Promise<void>;
  /** Creates `key` = `value` on `lease` if the key does not exist, in one transaction; else who holds it. */
  createIfAbsent(key: string, value: string, lease: string): Promise<CreateResult>;
  get(key: string): Promise<EtcdKeyValue | undefined>;
  /** Writes `key` (no lease); the revision of the write. */
  put(key: string, value: string): Promise<number>;
  /** Every key that starts with `prefix`, in key order. */
  range(prefix: string): Promise<EtcdKeyValue[]>;
  /** Puts (a value) and deletes (null) in one transaction: all or none; the revision after it. */
  apply(ops: readonly EtcdOp[]): Promise<number>;
}

export interface EtcdOp {
  readonly key: string;
  /** null: delete the key. */
  readonly value: string | null;
}
