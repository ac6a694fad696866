/**
 * The hosts that joined this Proxy with a token: its side of what `vswitch join` set up. Each is a star peer of
 * the Proxy as a config peer is — reloaded and linked at start, protected from deletion through the primitives —
 * until an operator removes it (`vswitch joined-host remove NAME`).
 *
 * This is a small store of its own (the Proxy's durable state, being built apart, will keep links added through the
 * primitives; this store folds into it then). Like the token store it persists every change before it counts and
 * undoes the change in memory when persisting fails.
 */
import { NotFoundError } from '../overlay/primitives.js';

/** Joined hosts at most (a bound on what tokens can add; the operator raises nothing past it). */
export const MAX_JOINED_HOSTS = 1000;

export interface JoinedHost {
  readonly name: string;
  /** Base64 Curve25519 public key. */
  readonly publicKey: string;
  /** Where the Proxy first reaches it (the join's source address and the host's link port); absent: it dials. */
  readonly endpoint?: string;
  /** Wall-clock ms. */
  readonly joinedAtMs: number;
  /** The token it joined with. */
  readonly token: string;
}

export interface JoinedHostView {
  name: string;
  publicKey: string;
  endpoint?: string;
  joinedAt: string;
  token: string;
}

export interface JoinedHostStoreOptions {
  persist(hosts: readonly JoinedHost[]): void;
  hosts?: readonly JoinedHost[];
}

export class JoinedHostStore {
  private readonly hosts = new Map<string, JoinedHost>();

  constructor(private readonly options: JoinedHostStoreOptions) {
    for (const h of options.hosts ?? []) this.hosts.set(h.name, h);
  }

  has(name: string): boolean {
    return this.hosts.has(name);
  }

  get(name: string): JoinedHost | undefined {
    return this.hosts.get(name);
  }

  byKey(publicKey: string): JoinedHost | undefined {
    for (const h of this.hosts.values()) if (h.publicKey === publicKey) return h;
    return undefined;
  }

  get size(): number {
    return this.hosts.size;
  }

  all(): JoinedHost[] {
    return [...this.hosts.values()];
  }

  list(): JoinedHostView[] {
    return this.all()
      .sort((a, b) => a.joinedAtMs - b.joinedAtMs)
      .map((h) => ({ name: h.name, publicKey: h.publicKey, ...(h.endpoint ? { endpoint: h.endpoint } : {}), joinedAt: new Date(h.joinedAtMs).toISOString(), token: h.token }));
  }

  add(host: JoinedHost): void {
    if (this.hosts.has(host.name)) throw new Error(`joined host ${host.name} exists`); // the service checked
    this.hosts.set(host.name, host);
    this.persistOr(() => this.hosts.delete(host.name));
  }

  remove(name: string): JoinedHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new NotFoundError('joined host', name);
    this.hosts.delete(name);
    this.persistOr(() => this.hosts.set(name, host));
    return host;
  }

  private persistOr(undo: () => void): void {
    try {
      this.options.persist(this.all());
    } catch (err) {
      undo();
      throw err;
    }
  }
}
