/**
 * The operator's side of joining, as the API sees it (api/http/join-routes.ts): tokens and joined hosts. The Proxy's
 * ProxyJoin implements it; the API knows only this.
 */
import type { Actor } from '../overlay/primitives.js';
import type { JoinedHostView } from './joined-hosts.js';
import type { JoinTokenView } from './token-store.js';

/** A token as created: its view and the token text, shown once. */
export interface JoinTokenCreated extends JoinTokenView {
  token: string;
}

export interface JoinStatus {
  listen: string;
  advertise: string;
  /** SHA-256 of the join certificate, as tokens pin it. */
  pin: string;
  liveTokens: number;
  joinedHosts: number;
  /** Hosts joined since the Proxy started. */
  joined: number;
  /** Refused join requests by code (a fixed set). */
  refused: Record<string, number>;
}

export interface JoinAdmin {
  createToken(input: { name?: string; expiresInS?: number }, actor: Actor): JoinTokenCreated;
  tokens(): JoinTokenView[];
  revokeToken(id: string, actor: Actor): JoinTokenView;
  hosts(): JoinedHostView[];
  removeHost(name: string, actor: Actor): Promise<void>;
  status(): JoinStatus;
}
