/**
 * The Proxy's side of a join: a request that arrived over the join listener's TLS becomes a host of the overlay.
 *
 *   1. admit the source address (AttemptLimiter: too many attempts → 429);
 *   2. check the request's schema (join-exchange.ts);
 *   3. check the token — secret first, then live (token-store.ts) — and the name: the token's, or the one asked
 *      for (a token made for h9 joins only h9);
 *   4. check the overlay: the name is no host's, link's or port's; the key is no host's and not the Proxy's;
 *   5. consume the token and record the host (both saved before going on), then add its star link through the
 *      Proxy's primitives (actor "join"); if the link cannot be added, the host is forgotten and the token
 *      given back, so the host may try again;
 *   6. answer with what the host's config needs: its name, the Proxy's name, key and link endpoints.
 * Steps 1–5 up to the link run without yielding, so two requests with one token cannot both pass the check: the
 * second sees it used. Every refusal is counted under its code (`refused`), never under text the sender chose.
 */
import type { Clock } from '../clock.js';
import { VswitchError } from '../errors.js';
import { NO_EVENTS, type EventSink } from '../events.js';
import type { Logger } from '../log.js';
import { NotFoundError, type Actor } from '../overlay/primitives.js';
import { AttemptLimiter } from './attempt-limiter.js';
import { JoinKeyTakenError, JoinLimitError, JoinNameMismatchError, JoinNameTakenError, JoinRateLimitedError, JoinRequestInvalidError } from './join-errors.js';
import { JOIN_EXCHANGE_VERSION, parseJoinRequest, type JoinAnswer } from './join-exchange.js';
import { MAX_JOINED_HOSTS, type JoinedHost, type JoinedHostStore } from './joined-hosts.js';
import type { JoinTokenStore } from './token-store.js';

/** The actor the Proxy adds joined hosts' links under (their owner in `link list`). */
export const JOIN_ACTOR: Actor = { name: 'join' };

/** What the service needs of the Proxy (the daemon gives it its primitives and links). */
export interface JoinOverlay {
  readonly proxyName: string;
  /** Base64. */
  readonly proxyPublicKey: string;
  /** Where hosts reach the Proxy's links: "IP:PORT" for UDP (and TCP unless tcpEndpoint). */
  linkEndpoints(): { endpoint: string; tcpEndpoint?: string };
  /** Why a new host may not be called `name` (a link or port of the Proxy is), or undefined. */
  nameConflict(name: string): string | undefined;
  /** Why a new host may not have this key (a link of the Proxy, or the Proxy itself, has it), or undefined. */
  keyConflict(publicKey: string): string | undefined;
  /** Adds the host's star link on the Proxy (its primitives, actor JOIN_ACTOR). A link that exists to the same key counts. */
  addStarLink(host: JoinedHost): Promise<void>;
  /** Removes it again (a removed host). */
  deleteStarLink(name: string): Promise<void>;
}

export interface JoinServiceOptions {
  tokens: JoinTokenStore;
  hosts: JoinedHostStore;
  overlay: JoinOverlay;
  /** Monotonic, for the attempt limiter. */
  clock: Clock;
  wallClock: () => number;
  log: Logger;
  events?: EventSink;
  limiter?: AttemptLimiter;
}

export class JoinService {
  /** Refused joins by error code. */
  readonly refused: Record<string, number> = {};
  joined = 0;
  private readonly limiter: AttemptLimiter;
  private readonly events: EventSink;

  constructor(private readonly options: JoinServiceOptions) {
    this.limiter = options.limiter ?? new AttemptLimiter();
    this.events = options.events ?? NO_EVENTS;
  }

  /** One join request (parsed JSON) from `source` (the peer's IP address). Throws the refusal. */
  async join(body: unknown, source: string): Promise<JoinAnswer> {
    try {
      return await this.admitted(body, source);
    } catch (err) {
      const code = err instanceof VswitchError ? err.code : 'internal';
      this.refused[code] = (this.refused[code] ?? 0) + 1;
      this.options.log.info('join refused', { from: source, code });
      throw err;
    }
  }

  /** Counts a request refused before it reached `join` (too large, not JSON, wrong path). */
  countRefused(code: string): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }

  /** Admits one attempt from `source` (also for requests refused before `join`, so they count too). */
  admit(source: string): void {
    const admission = this.limiter.admit(source, this.options.clock.now());
    if (admission.ok) return;
    this.countRefused('join-rate-limited');
    throw new JoinRateLimitedError(source, admission.retryAfterS);
  }

  private async admitted(body: unknown, source: string): Promise<JoinAnswer> {
    const { tokens, hosts, overlay } = this.options;
    const request = parseJoinRequest(body);
    const token = tokens.check(request.token, request.secretBytes);
    if (token.name !== undefined && request.name !== undefined && request.name !== token.name) throw new JoinNameMismatchError(token.name, request.name);
    const name = request.name ?? token.name;
    if (name === undefined) throw new JoinRequestInvalidError('name', 'is required: this token names no host (join with --name NAME)');
    if (hosts.has(name)) throw new JoinNameTakenError(name, `host ${name} joined already`);
    if (name === overlay.proxyName) throw new JoinNameTakenError(name, 'it is the Proxy\'s own name');
    const nameTaken = overlay.nameConflict(name);
    if (nameTaken !== undefined) throw new JoinNameTakenError(name, nameTaken);
    if (request.publicKey === overlay.proxyPublicKey) throw new JoinKeyTakenError('it is the Proxy\'s own key');
    const keyHolder = hosts.byKey(request.publicKey);
    if (keyHolder) throw new JoinKeyTakenError(`host ${keyHolder.name} has it`);
    const keyTaken = overlay.keyConflict(request.publicKey);
    if (keyTaken !== undefined) throw new JoinKeyTakenError(keyTaken);
    if (hosts.size >= MAX_JOINED_HOSTS) throw new JoinLimitError(`${MAX_JOINED_HOSTS} hosts have joined this Proxy already: remove some (\`vswitch joined-host remove NAME\`)`);

    const host: JoinedHost = {
      name,
      publicKey: request.publicKey,
      ...(request.listenPort === undefined ? {} : { endpoint: endpointOf(source, request.listenPort) }),
      joinedAtMs: this.options.wallClock(),
      token: token.id,
    };
    tokens.consume(request.token, request.secretBytes, name);
    try {
      hosts.add(host);
    } catch (err) {
      tokens.release(token.id);
      throw err;
    }
    try {
      await overlay.addStarLink(host);
    } catch (err) {
      hosts.remove(name);
      tokens.release(token.id);
      throw err;
    }
    this.joined++;
    this.options.log.info('host joined', { host: name, token: token.id, from: source });
    this.events.emit({ type: 'host-joined', host: name, token: token.id, from: source });
    return { v: JOIN_EXCHANGE_VERSION, name, proxy: { name: overlay.proxyName, publicKey: overlay.proxyPublicKey, ...overlay.linkEndpoints() } };
  }

  /** An operator removes a joined host: forgotten (saved), then its star link deleted. */
  async remove(name: string, actor: Actor): Promise<void> {
    this.options.hosts.remove(name);
    try {
      await this.options.overlay.deleteStarLink(name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.options.log.info('joined host removed', { host: name, actor: actor.name });
    this.events.emit({ type: 'host-removed', host: name, by: actor.name });
  }

  /** At start: every joined host's star link, as saved. A host that conflicts with the config is skipped and logged. */
  async restore(): Promise<void> {
    for (const host of this.options.hosts.all()) {
      try {
        await this.options.overlay.addStarLink(host);
      } catch (err) {
        this.options.log.warn('joined host not restored: its link conflicts with the config (remove it: vswitch joined-host remove)', { host: host.name, err });
      }
    }
  }
}

/** "IP:PORT" of a source address (IPv4-mapped IPv6 as IPv4; IPv6 in brackets). */
export function endpointOf(source: string, port: number): string {
  const ip = source.startsWith('::ffff:') && source.includes('.') ? source.slice('::ffff:'.length) : source;
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}
