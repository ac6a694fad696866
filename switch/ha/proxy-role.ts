/**
 * Whether this Proxy is the active one, for what must only act there (its plugins: the fast path plans and acts,
 * the registry delivers events, policies' leases run). Without `ha:` a Proxy is always active; with it the election
 * (proxy-election.ts) sets it. Listeners hear each change once, in order, after the new value is in place.
 */
export interface ProxyActivity {
  isActive(): boolean;
  /** Called on each change (true: became active); returns the unsubscribe. */
  onChange(listener: (active: boolean) => void): () => void;
}

export class ProxyRole implements ProxyActivity {
  private active: boolean;
  private readonly listeners = new Set<(active: boolean) => void>();

  constructor(active: boolean) {
    this.active = active;
  }

  isActive(): boolean {
    return this.active;
  }

  onChange(listener: (active: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    for (const listener of [...this.listeners]) listener(active);
  }
}

/** A Proxy without `ha:`: the only one, always active. */
export const ALWAYS_ACTIVE: ProxyActivity = { isActive: () => true, onChange: () => () => undefined };
