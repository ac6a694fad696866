/**
 * Joining on the Proxy, whole: the join directory (state files and certificate), the token and host stores, the
 * service and its TLS listener, and the operator's side (JoinAdmin: what the API's /v1/join-tokens and
 * /v1/joined-hosts call). The daemon opens it when its config has `join:`, restores the joined hosts' star links
 * once its links run, and starts the listener last.
 *
 * The certificate is made on first start and kept: every token pins it, so a new one would orphan every token
 * out there (delete tls-*.pem to make a new one on purpose, and with it new tokens).
 */
import { existsSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { Clock } from '../clock.js';
import type { JoinConfig } from '../config/config.js';
import { VswitchError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { Logger } from '../log.js';
import type { Actor } from '../overlay/primitives.js';
import { ensurePrivateDirectory, readBoundedFile, StateFileError, writeFileAtomic } from './durable-file.js';
import type { JoinAdmin, JoinStatus, JoinTokenCreated } from './join-admin.js';
import { JoinedHostStore, type JoinedHostView } from './joined-hosts.js';
import { JoinNameTakenError } from './join-errors.js';
import { JoinService, type JoinOverlay } from './join-service.js';
import { startJoinListener, type JoinListener } from './join-listener.js';
import {
  CERT_FILE,
  decodeHosts,
  decodeTokens,
  encodeHosts,
  encodeTokens,
  HOSTS_FILE,
  KEY_FILE,
  MAX_JOIN_STATE_BYTES,
  TOKENS_FILE,
} from './join-state-files.js';
import { encodeJoinToken, formatPin, joinAddress } from './join-token.js';
import { certificatePin, createJoinCertificate, type JoinCertificate } from './self-signed-certificate.js';
import { JoinTokenStore, type JoinTokenView } from './token-store.js';

export interface ProxyJoinOptions {
  config: JoinConfig;
  overlay: JoinOverlay;
  clock: Clock;
  wallClock: () => number;
  randomBytes: (n: number) => Uint8Array;
  log: Logger;
  events?: EventSink;
}

export class ProxyJoin implements JoinAdmin {
  private listener: JoinListener | undefined;
  private readonly pin: Uint8Array;

  private constructor(
    private readonly options: ProxyJoinOptions,
    private readonly certificate: JoinCertificate,
    private readonly tokenStore: JoinTokenStore,
    private readonly hostStore: JoinedHostStore,
    readonly service: JoinService,
  ) {
    this.pin = certificatePin(certificate.certPem);
  }

  /** Reads (or makes) the join directory's state; throws a StateFileError naming a bad file. Opens no socket. */
  static open(options: ProxyJoinOptions): ProxyJoin {
    const { config, log } = options;
    const dir = config.dir;
    try {
      ensurePrivateDirectory(dir);
    } catch (err) {
      throw new StateFileError(dir, `cannot create the join directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    const file = (name: string): string => joinPath(dir, name);
    const certificate = loadOrCreateCertificate(dir, options, log);
    const tokensText = readBoundedFile(file(TOKENS_FILE), MAX_JOIN_STATE_BYTES);
    const hostsText = readBoundedFile(file(HOSTS_FILE), MAX_JOIN_STATE_BYTES);
    const tokens = new JoinTokenStore({
      wallClock: options.wallClock,
      randomBytes: options.randomBytes,
      records: tokensText === undefined ? [] : decodeTokens(tokensText, file(TOKENS_FILE)),
      persist: (records) => writeFileAtomic(file(TOKENS_FILE), encodeTokens(records)),
    });
    const hosts = new JoinedHostStore({
      hosts: hostsText === undefined ? [] : decodeHosts(hostsText, file(HOSTS_FILE)),
      persist: (list) => writeFileAtomic(file(HOSTS_FILE), encodeHosts(list)),
    });
    const service = new JoinService({
      tokens,
      hosts,
      overlay: options.overlay,
      clock: options.clock,
      wallClock: options.wallClock,
      log,
      ...(options.events ? { events: options.events } : {}),
    });
    return new ProxyJoin(options, certificate, tokens, hosts, service);
  }

  /** Whether `name` is a joined host (its link is then of the star, as a config peer's). */
  isJoined(name: string): boolean {
    return this.hostStore.has(name);
  }

  /** The joined hosts' star links, as saved (after the daemon's links run). */
  restore(): Promise<void> {
    return this.service.restore();
  }

  /** Starts the TLS listener. */
  async start(): Promise<void> {
    this.listener = await startJoinListener({ listen: this.options.config.listen, certificate: this.certificate, service: this.service, log: this.options.log });
    this.options.log.info('join listener up', { listen: this.listenText(), advertise: joinAddress(this.options.config.advertise), pin: formatPin(this.pin) });
  }

  async stop(): Promise<void> {
    await this.listener?.close();
    this.listener = undefined;
  }

  createToken(input: { name?: string; expiresInS?: number }, actor: Actor): JoinTokenCreated {
    // A token for a name already in the overlay could never be used: say so now, not when a host tries.
    const name = input.name;
    const taken = name === undefined ? undefined : this.hostStore.has(name) ? `host ${name} joined already` : name === this.options.overlay.proxyName ? "it is the Proxy's own name" : this.options.overlay.nameConflict(name);
    if (name !== undefined && taken !== undefined) throw new JoinNameTakenError(name, taken);
    const { record, secret } = this.tokenStore.create(input, actor.name);
    const { host, port } = this.options.config.advertise;
    const token = encodeJoinToken({ id: record.id, secret, pin: this.pin, host, port, ...(record.name === undefined ? {} : { name: record.name }) });
    this.options.log.info('join token created', { token: record.id, name: record.name, expiresAt: new Date(record.expiresAtMs).toISOString(), actor: actor.name });
    const view = this.tokenStore.list().find((t) => t.id === record.id);
    if (!view) throw new VswitchError('join-internal', 'the new token is not in the store');
    return { ...view, token };
  }

  tokens(): JoinTokenView[] {
    return this.tokenStore.list();
  }

  revokeToken(id: string, actor: Actor): JoinTokenView {
    const view = this.tokenStore.revoke(id);
    this.options.log.info('join token revoked', { token: id, actor: actor.name });
    return view;
  }

  hosts(): JoinedHostView[] {
    return this.hostStore.list();
  }

  removeHost(name: string, actor: Actor): Promise<void> {
    return this.service.remove(name, actor);
  }

  status(): JoinStatus {
    return {
      listen: this.listenText(),
      advertise: joinAddress(this.options.config.advertise),
      pin: formatPin(this.pin),
      liveTokens: this.tokenStore.list().filter((t) => t.state === 'live').length,
      joinedHosts: this.hostStore.size,
      joined: this.service.joined,
      refused: { ...this.service.refused },
    };
  }

  private listenText(): string {
    return joinAddress(this.listener?.address ?? this.options.config.listen);
  }
}

function loadOrCreateCertificate(dir: string, options: ProxyJoinOptions, log: Logger): JoinCertificate {
  const certFile = joinPath(dir, CERT_FILE);
  const keyFile = joinPath(dir, KEY_FILE);
  const hasCert = existsSync(certFile);
  const hasKey = existsSync(keyFile);
  if (hasCert && hasKey) {
    const loaded = { certPem: readBoundedFile(certFile, 64 * 1024)!, keyPem: readBoundedFile(keyFile, 64 * 1024)! };
    try {
      certificatePin(loaded.certPem);
    } catch (err) {
      throw new StateFileError(certFile, 'is not a PEM certificate', { cause: err });
    }
    return loaded;
  }
  if (hasCert !== hasKey) {
    throw new StateFileError(hasCert ? keyFile : certFile, `is missing while ${hasCert ? CERT_FILE : KEY_FILE} is there: remove both to make a new certificate (and new tokens: the old ones pin the old one)`);
  }
  const certificate = createJoinCertificate(`vswitch join ${options.overlay.proxyName}`, options.randomBytes(16), options.wallClock());
  writeFileAtomic(keyFile, certificate.keyPem, 0o600);
  writeFileAtomic(certFile, certificate.certPem, 0o600);
  log.info('join certificate created', { file: certFile, pin: formatPin(certificatePin(certificate.certPem)) });
  return certificate;
}
