#!/usr/bin/env node
/**
 * pin-pairs: an example third-party policy for vswitch (issue #8). It pins chosen VM pairs to a direct link between
 * their hosts, so their frames skip the Proxy. It is a separate process that uses only the Proxy's HTTP API:
 * no imports from vswitch, no npm dependencies (Node 20's fetch and a small server-sent-events reader).
 *
 *   node examples/pin-pairs/policy.mjs --api http://127.0.0.1:7000 [--token OPERATOR_TOKEN]
 *        --pair 02:00:c6:13:01:01=02:00:c6:13:03:01 [--pair …] [--name pin-pairs] [--lease 10] [--token-file FILE]
 *
 * What it does, as a reconcile loop (idempotent: it compares what it wants with what the hosts have):
 *   1. registers (POST /v1/plugins, events host + link, SSE delivery) and reads its event stream;
 *   2. on the stream's opening, on every host or link event, and every RESYNC_MS, it reconciles:
 *      - each VM's host: the Proxy's MAC table (GET /v1/macs) — a MAC learned on the Proxy's link `hN` lives on host
 *        hN (VMs must have sent something; until then it waits and retries);
 *      - for a pair A (on hX) = B (on hY), hX ≠ hY: link `pin-hY` on hX and `pin-hX` on hY (the peer's public key
 *        and underlay endpoint from the Proxy's own link to it, GET /v1/links), then, once both ends are up, a rule
 *        src A dst B → pin-hY on hX and src B dst A → pin-hX on hY;
 *      - what it owns that is no longer wanted (a VM moved, a link that went down: its rules) is removed, rules
 *        first, so traffic falls back to the star rather than into a dead link;
 *   3. on SIGINT/SIGTERM it unregisters (DELETE /v1/plugins/NAME): the Proxy removes everything it owns.
 * It logs one JSON line per thing it does or receives on stdout; errors are lines with "level":"error".
 * It waits out 429 (Retry-After), reconnects its stream when it drops, and registers again when its token stops
 * working (lease expired, or an operator removed it).
 */
import { writeFileSync } from 'node:fs';

const USAGE = `usage: node policy.mjs --api URL [--token OPERATOR_TOKEN] --pair MAC=MAC [--pair MAC=MAC …]
                      [--name pin-pairs] [--lease SECONDS] [--token-file FILE] [--prefix pin-]`;
const LINK_PORT = 51820;
const RESYNC_MS = 15_000;
const RECONCILE_DEBOUNCE_MS = 200;
const STREAM_IDLE_MS = 45_000; // the Proxy sends a comment every 15 s: silence this long means a dead stream
const REQUEST_TIMEOUT_MS = 15_000;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

// ---------------------------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = { api: undefined, token: undefined, pairs: [], name: 'pin-pairs', lease: 30, tokenFile: undefined, prefix: 'pin-' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--api': o.api = value().replace(/\/+$/, ''); break;
      case '--token': o.token = value(); break;
      case '--name': o.name = value(); break;
      case '--lease': o.lease = Number(value()); break;
      case '--token-file': o.tokenFile = value(); break;
      case '--prefix': o.prefix = value(); break;
      case '--pair': {
        const [a, b, extra] = value().toLowerCase().split('=');
        if (extra !== undefined || !MAC.test(a ?? '') || !MAC.test(b ?? '')) fail(`--pair wants MAC=MAC (found "${argv[i]}")`);
        if (a === b) fail(`--pair ${argv[i]}: a VM cannot be pinned to itself`);
        o.pairs.push({ a, b });
        break;
      }
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        fail(`unknown argument "${arg}"\n${USAGE}`);
    }
  }
  if (!o.api) fail(`--api is required\n${USAGE}`);
  if (o.pairs.length === 0) fail(`at least one --pair is required\n${USAGE}`);
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(o.name)) fail('--name: lower-case letters, digits and "-", at most 32 characters');
  if (!Number.isInteger(o.lease) || o.lease < 5 || o.lease > 3600) fail('--lease: whole seconds, 5..3600');
  return o;
}

function fail(message) {
  log('error', 'bad arguments', { detail: message });
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// Logging: one JSON line per thing, on stdout

function log(level, msg, fields = {}) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}
const info = (msg, fields) => log('info', msg, fields);
const warn = (msg, fields) => log('warn', msg, fields);
const error = (msg, fields) => log('error', msg, fields);

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

// ---------------------------------------------------------------------------------------------------------------
// The API client: JSON in and out, problem+json errors, 429 waited out

class ApiError extends Error {
  constructor(method, path, status, problem) {
    super(`${method} ${path}: HTTP ${status}${problem?.code ? ` ${problem.code}` : ''}${problem?.detail ? `: ${problem.detail}` : ''}`);
    this.status = status;
    this.code = problem?.code;
    this.detail = problem?.detail ?? problem?.title;
  }
}

class Api {
  constructor(base, shutdown) {
    this.base = base;
    this.shutdown = shutdown;
    this.policyToken = undefined;
  }

  /** as: 'policy' (its token), 'operator' (the --token, if any) or 'none'. */
  async request(method, path, { body, as = 'policy', operatorToken } = {}) {
    for (;;) {
      const headers = { accept: 'application/json' };
      const token = as === 'policy' ? this.policyToken : as === 'operator' ? operatorToken : undefined;
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res;
      try {
        res = await fetch(`${this.base}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        throw new ApiError(method, path, 0, { code: 'unreachable', detail: err.cause?.message ?? err.message });
      }
      const text = await res.text();
      let parsed;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = { detail: text.slice(0, 200) };
      }
      if (res.status === 429) {
        const waitS = Math.max(1, Number(res.headers.get('retry-after')) || 1);
        warn('rate limited', { method, path, retryAfterS: waitS });
        await sleep(waitS * 1000);
        continue;
      }
      if (res.status >= 400) throw new ApiError(method, path, res.status, parsed);
      return parsed;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A small server-sent-events reader over fetch: yields { event, data, id }

async function* readSse(body, idleMs) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = { event: 'message', data: [], id: undefined };
  try {
    for (;;) {
      let timer;
      const idle = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
      });
      let chunk;
      try {
        chunk = await Promise.race([reader.read(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      let nl;
      while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (event.data.length > 0) yield { event: event.event, data: event.data.join('\n'), id: event.id };
          event = { event: 'message', data: [], id: undefined };
          continue;
        }
        if (line.startsWith(':')) continue; // a comment: keepalive
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'data') event.data.push(value);
        else if (field === 'id') event.id = value;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The policy

/** "udp:198.18.0.2:51820" → "198.18.0.2:51820"; over TCP the source port is ephemeral: the link port instead. */
export function underlayEndpoint(endpoint) {
  if (typeof endpoint !== 'string') return undefined;
  const e = endpoint.replace(/#\d+$/, '');
  const m = /^(udp|tcp):(.+):(\d+)$/.exec(e) ?? /^()(.+):(\d+)$/.exec(e);
  if (!m) return undefined;
  return m[1] === 'tcp' ? `${m[2]}:${LINK_PORT}` : `${m[2]}:${m[3]}`;
}

class PinPairs {
  constructor(options) {
    this.o = options;
    this.stopping = false;
    this.stopController = new AbortController();
    this.api = new Api(options.api);
    this.owner = `proxy:policy:${options.name}`;
    this.reconcileTimer = undefined;
    this.reconciling = undefined; // the running reconcile's promise
    this.again = false;
    this.lastWaiting = ''; // what the last reconcile waited for (logged when it changes)
    this.disabled = false;
  }

  async run() {
    await this.register();
    const resync = setInterval(() => this.schedule('resync'), RESYNC_MS);
    let backoffMs = 1000;
    while (!this.stopping) {
      try {
        await this.stream();
        backoffMs = 1000;
        if (!this.stopping) warn('stream closed by the Proxy; reconnecting');
      } catch (err) {
        if (this.stopping) break;
        if (err instanceof ApiError && err.status === 401 && this.disabled) {
          // Disabled, then gone: an operator removed it (or the Proxy let its lease run out meanwhile). Registering
          // again would undo the operator's decision, so stop here; restart the policy to register it again.
          error('unregistered while disabled: not registering again over the operator\'s decision; exiting', { detail: err.detail });
          process.exit(3);
        } else if (err instanceof ApiError && err.status === 401) {
          warn('token no longer accepted (lease expired or unregistered by an operator): registering again', { detail: err.detail });
          await this.register().catch((e) => error('register failed', { detail: e.message }));
        } else if (err instanceof ApiError && err.status === 403 && err.code === 'plugin-disabled') {
          if (!this.disabled) warn('disabled by an operator: waiting to be enabled', { detail: err.detail });
          this.disabled = true;
          backoffMs = 2000;
        } else if (err instanceof ApiError && err.status === 404) {
          warn('not registered (any more): registering again', { detail: err.detail });
          await this.register().catch((e) => error('register failed', { detail: e.message }));
        } else {
          error('stream failed', { detail: err.message, status: err.status });
        }
      }
      if (this.stopping) break;
      await sleep(backoffMs, this.stopController.signal);
      backoffMs = Math.min(10_000, backoffMs * 2);
    }
    clearInterval(resync);
  }

  async register() {
    const body = {
      name: this.o.name,
      description: `pins ${this.o.pairs.length} VM pair(s) to direct links`,
      events: ['host', 'link'],
      delivery: { type: 'sse' },
      leaseSeconds: this.o.lease,
    };
    for (;;) {
      try {
        const view = await this.api.request('POST', '/v1/plugins', { body, as: 'operator', operatorToken: this.o.token });
        this.api.policyToken = view.token;
        if (this.o.tokenFile) writeFileSync(this.o.tokenFile, `${view.token}\n`, { mode: 0o600 });
        info('registered', { name: view.name, actor: view.actor, events: view.events, leaseSeconds: view.leaseSeconds, state: view.state, owns: view.owns });
        return;
      } catch (err) {
        // A 4xx other than 429 will not get better by waiting: say so and stop.
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
          error('cannot register', { status: err.status, code: err.code, detail: err.detail });
          process.exit(1);
        }
        if (this.stopping) return;
        error('cannot register yet; retrying', { detail: err.message });
        await sleep(2000, this.stopController.signal);
        if (this.stopping) return;
      }
    }
  }

  /** One connection of the event stream, until it ends. */
  async stream() {
    const controller = new AbortController();
    const onStop = () => controller.abort();
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await fetch(`${this.o.api}/v1/plugins/${this.o.name}/events`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${this.api.policyToken}` },
        signal: controller.signal,
      });
      if (!res.ok) {
        const text = await res.text();
        let problem;
        try {
          problem = JSON.parse(text);
        } catch {
          problem = { detail: text.slice(0, 200) };
        }
        if (res.status === 429) await sleep(Math.max(1, Number(res.headers.get('retry-after')) || 1) * 1000);
        throw new ApiError('GET', `/v1/plugins/${this.o.name}/events`, res.status, problem);
      }
      for await (const message of readSse(res.body, STREAM_IDLE_MS)) {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          warn('unreadable event', { event: message.event, data: message.data.slice(0, 200) });
          continue;
        }
        if (message.event === 'hello') {
          if (this.disabled) info('enabled again');
          this.disabled = false;
          info('stream open', { state: data.state, owns: data.owns });
          this.schedule('stream open');
        } else if (message.event === 'dropped') {
          warn('events dropped by the Proxy (we fell behind): resyncing', { dropped: data.dropped });
          this.schedule('dropped');
        } else {
          info('event', { type: data.type, seq: data.seq, ...(data.host ? { host: data.host } : {}), ...(data.link ? { link: data.link } : {}) });
          if (data.type === 'host' || data.type === 'link') this.schedule(`${data.type} event`);
        }
      }
    } catch (err) {
      if (this.stopping && err.name === 'AbortError') return;
      throw err;
    } finally {
      this.stopController.signal.removeEventListener('abort', onStop);
    }
  }

  schedule(reason) {
    if (this.stopping) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => void this.reconcileLoop(reason), RECONCILE_DEBOUNCE_MS);
  }

  async reconcileLoop(reason) {
    if (this.reconciling || this.stopping) return;
    const run = async () => {
      do {
        this.again = false;
        try {
          const retryMs = await this.reconcile(reason);
          if (retryMs !== undefined && !this.stopping) {
            clearTimeout(this.reconcileTimer);
            this.reconcileTimer = setTimeout(() => this.schedule('retry'), retryMs);
          }
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) {
            warn('token refused while acting; the stream will register again', { detail: err.detail });
          } else if (err instanceof ApiError && err.status === 403 && err.code === 'plugin-disabled') {
            // The stream notices and waits; nothing to do here.
          } else {
            error('reconcile failed; retrying', { detail: err.message });
            clearTimeout(this.reconcileTimer);
            this.reconcileTimer = setTimeout(() => this.schedule('retry'), 2000);
          }
        }
        reason = 'again';
      } while (this.again && !this.stopping);
    };
    this.reconciling = run();
    try {
      await this.reconciling;
    } finally {
      this.reconciling = undefined;
    }
  }

  /** Makes the hosts match what the pairs want. Returns ms until a retry is needed, if one is. */
  async reconcile() {
    const api = this.api;
    const [{ links: proxyLinks }, { macs }] = await Promise.all([api.request('GET', '/v1/links'), api.request('GET', '/v1/macs')]);
    const starLinks = new Map(proxyLinks.map((l) => [l.name, l]));
    const macHost = new Map();
    for (const m of macs) if (starLinks.has(m.port)) macHost.set(m.mac, m.port);

    // What we want: per host, links (name → peer) and rules.
    const wantLinks = new Map(); // host → Map(linkName → peer host)
    const wantRules = []; // { host, src, dst, target, peer }
    const waiting = [];
    for (const { a, b } of this.o.pairs) {
      const ha = macHost.get(a);
      const hb = macHost.get(b);
      if (!ha || !hb) {
        waiting.push(`${!ha ? a : b} not learned by the Proxy yet`);
        continue;
      }
      if (ha === hb) {
        waiting.push(`${a} and ${b} are both on ${ha}: nothing to pin`);
        continue;
      }
      for (const [h, peer] of [[ha, hb], [hb, ha]]) {
        if (!wantLinks.has(h)) wantLinks.set(h, new Map());
        wantLinks.get(h).set(this.linkName(peer), peer);
      }
      wantRules.push({ host: ha, src: a, dst: b, target: this.linkName(hb) });
      wantRules.push({ host: hb, src: b, dst: a, target: this.linkName(ha) });
    }
    const waitingKey = waiting.join('; ');
    if (waitingKey !== this.lastWaiting) {
      if (waiting.length > 0) info('waiting', { for: waiting });
      this.lastWaiting = waitingKey;
    }

    // Which hosts to look at: those we want something on, and every host we may own something on.
    const { hosts } = await api.request('GET', '/v1/hosts');
    const upHosts = hosts.filter((h) => h.state === 'up').map((h) => h.name);
    const look = new Set([...wantLinks.keys(), ...upHosts]);
    const state = new Map(); // host → { links, rules } or undefined when unreachable
    await Promise.all(
      [...look].map(async (h) => {
        try {
          const [{ links }, { rules }] = await Promise.all([api.request('GET', `/v1/hosts/${h}/links`), api.request('GET', `/v1/hosts/${h}/rules`)]);
          state.set(h, { links, rules });
        } catch (err) {
          if (err.status === 401 || err.status === 403) throw err;
          warn('host not reachable now', { host: h, detail: err.message });
          state.set(h, undefined);
        }
      }),
    );
    let retryMs = waiting.some((w) => w.includes('not learned')) ? 2000 : undefined;
    const later = (ms) => (retryMs = Math.min(retryMs ?? ms, ms));

    // 1. Rules we own that are not wanted (or point at a link that is not up at both ends): delete, before links.
    const linkUp = (h, name) => state.get(h)?.links.find((l) => l.name === name && l.owner === this.owner)?.state === 'up';
    const ruleOk = (r) => {
      const peer = wantLinks.get(r.host)?.get(r.target);
      return peer !== undefined && linkUp(r.host, r.target) && linkUp(peer, this.linkName(r.host));
    };
    for (const [h, s] of state) {
      if (!s) continue;
      for (const rule of s.rules) {
        if (rule.owner !== this.owner || this.stopping) continue;
        const wanted = wantRules.some((w) => w.host === h && w.src === rule.src && w.dst === rule.dst && w.target === rule.target);
        if (wanted && ruleOk({ host: h, target: rule.target })) continue;
        await this.act(() => api.request('DELETE', `/v1/hosts/${h}/rules/${rule.id}`), 'rule deleted', { host: h, id: rule.id, src: rule.src, dst: rule.dst, target: rule.target, why: wanted ? 'link not up' : 'not wanted' });
        s.rules = s.rules.filter((r) => r.id !== rule.id);
      }
    }
    // 2. Links we own that are not wanted (or whose peer key changed): delete.
    for (const [h, s] of state) {
      if (!s) continue;
      for (const link of s.links) {
        if (link.owner !== this.owner || this.stopping) continue;
        const peer = wantLinks.get(h)?.get(link.name);
        const key = peer && starLinks.get(peer)?.publicKey;
        if (peer && key === link.publicKey) continue;
        await this.act(() => api.request('DELETE', `/v1/hosts/${h}/links/${link.name}`), 'link deleted', { host: h, link: link.name, why: peer ? 'peer key changed' : 'not wanted' });
        s.links = s.links.filter((l) => l.name !== link.name);
      }
    }
    // 3. Links wanted and missing: add.
    for (const [h, peers] of wantLinks) {
      const s = state.get(h);
      if (!s) {
        later(2000);
        continue;
      }
      for (const [name, peer] of peers) {
        if (this.stopping) return undefined;
        const existing = s.links.find((l) => l.name === name);
        if (existing) {
          if (existing.owner !== this.owner) {
            error('link name taken', { host: h, link: name, owner: existing.owner });
            later(RESYNC_MS);
          } else if (existing.state !== 'up') later(1000);
          continue;
        }
        const star = starLinks.get(peer);
        const endpoint = underlayEndpoint(star?.endpoint);
        if (!star || !endpoint) {
          warn('peer has no known underlay endpoint yet', { host: h, peer });
          later(2000);
          continue;
        }
        const input = { name, publicKey: star.publicKey, endpoint, transport: 'auto', persistentKeepaliveS: 1 };
        const ok = await this.act(() => api.request('POST', `/v1/hosts/${h}/links`, { body: input }), 'link added', { host: h, link: name, peer, endpoint });
        if (ok) s.links.push({ ...ok, owner: ok.owner ?? this.owner });
        later(ok ? 1000 : 2000);
      }
    }
    // 4. Rules wanted and missing, once both ends of their link are up: add.
    for (const want of wantRules) {
      const s = state.get(want.host);
      if (!s || this.stopping) continue;
      if (s.rules.some((r) => r.owner === this.owner && r.src === want.src && r.dst === want.dst && r.target === want.target)) continue;
      if (!ruleOk(want)) {
        later(1000);
        continue;
      }
      const ok = await this.act(
        () => api.request('POST', `/v1/hosts/${want.host}/rules`, { body: { src: want.src, dst: want.dst, target: want.target } }),
        'rule added',
        { host: want.host, src: want.src, dst: want.dst, target: want.target },
      );
      if (ok) s.rules.push(ok);
      else later(2000);
    }
    if (retryMs === undefined && wantRules.length > 0 && this.lastSettled !== true) info('in place', { links: [...wantLinks].flatMap(([h, p]) => [...p.keys()].map((n) => `${h}/${n}`)), rules: wantRules.length });
    this.lastSettled = retryMs === undefined;
    return retryMs;
  }

  /** One change: logged when it works; a refusal is logged and the reconcile goes on (401/403 stop it). */
  async act(fn, msg, fields) {
    try {
      const result = await fn();
      info(msg, { ...fields, ...(result?.id !== undefined ? { id: result.id } : {}) });
      return result ?? {};
    } catch (err) {
      if (err.status === 401 || (err.status === 403 && err.code === 'plugin-disabled')) throw err;
      if (err.status === 404 && msg.endsWith('deleted')) return {}; // already gone
      error(`${msg.replace(/ (added|deleted)$/, '')} ${msg.endsWith('added') ? 'add' : 'delete'} failed`, { ...fields, status: err.status, code: err.code, detail: err.detail });
      return undefined;
    }
  }

  linkName(peer) {
    return `${this.o.prefix}${peer}`;
  }

  async stop(signal) {
    if (this.stopping) return;
    this.stopping = true;
    info('stopping', { signal });
    clearTimeout(this.reconcileTimer);
    this.stopController.abort();
    // Let a change in flight land first, so that unregistering removes it too.
    if (this.reconciling) await Promise.race([this.reconciling, sleep(REQUEST_TIMEOUT_MS)]);
    if (this.api.policyToken) {
      try {
        await this.api.request('DELETE', `/v1/plugins/${this.o.name}`);
        info('unregistered', { name: this.o.name });
      } catch (err) {
        if (err.status === 401 || err.status === 404) info('unregistered already', { name: this.o.name, detail: err.detail });
        else {
          error('unregister failed', { detail: err.message });
          process.exit(1);
        }
      }
    }
    process.exit(0);
  }
}

// ---------------------------------------------------------------------------------------------------------------

const options = parseArgs(process.argv.slice(2));
const policy = new PinPairs(options);
process.on('SIGINT', () => void policy.stop('SIGINT'));
process.on('SIGTERM', () => void policy.stop('SIGTERM'));
info('starting', { api: options.api, name: options.name, pairs: options.pairs.map((p) => `${p.a}=${p.b}`), leaseSeconds: options.lease });
policy.run().catch((err) => {
  error('fatal', { detail: err.stack ?? err.message });
  process.exit(1);
});
