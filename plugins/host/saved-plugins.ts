/**
 * The registry's records in the durable state (switch/state/):
 *   plugin  NAME  a built-in or module plugin enabled or disabled at run time, layered on the config's word
 *                 ({ enabled: { value, base } }, switch/state/layered-settings.ts): back at restart while the config
 *                 still says what it said
 *   policy  NAME  an HTTP policy: its registration (events, delivery, lease), who registered it and when, whether
 *                 it is enabled or expired, and its token's SHA-256 digest — never the token itself
 *   cleanup "ACTOR HOST"  a cleanup still owed to a host that did not answer (a plugin turned off or gone): after
 *                 a restart it is retried at once, so what the plugin owned there does not stay for good
 * A policy comes back with a whole lease from the restart (it could not reach a daemon that was down); a webhook
 * policy's deliveries wait for its first request with its token (http-policy.ts).
 */
import { layerOver, restoreLayered } from '../../switch/state/layered-settings.js';
import { RecordReader, type RecordProblem } from '../../switch/state/record-reader.js';
import type { DurableRecords } from '../../switch/state/restore-report.js';
import type { JsonValue, StateChange } from '../../switch/state/state-record.js';
import type { HttpPolicyEntry } from './http-policy.js';
import { PLUGIN_EVENT_TYPES, type PluginEventType, type PolicyDelivery, type PolicyRegistration } from './plugin.js';

export const PLUGIN_KIND = 'plugin';
export const POLICY_KIND = 'policy';
export const CLEANUP_KIND = 'cleanup';

export function pluginEnabledRecord(name: string, enabled: boolean, configEnabled: boolean): StateChange {
  return { kind: PLUGIN_KIND, key: name, value: layerOver({ enabled }, { enabled: configEnabled }) };
}

/** The enabled state a plugin restarts with: the saved one while the config still says `configEnabled`, else undefined. */
export function restoredEnabled(name: string, configEnabled: boolean, state: DurableRecords): boolean | undefined {
  state.report.read(PLUGIN_KIND);
  const saved = state.saved.get(PLUGIN_KIND, name);
  if (saved === undefined) return undefined;
  const { apply, superseded } = restoreLayered(PLUGIN_KIND, name, saved, { enabled: configEnabled }, state.problem);
  for (const s of superseded) state.report.skipped(PLUGIN_KIND, name, s.reason);
  if (typeof apply.enabled !== 'boolean') return undefined;
  state.report.restored(PLUGIN_KIND, name, apply.enabled ? 'enabled' : 'disabled');
  return apply.enabled;
}

/** Checks a `plugin NAME` record read from elsewhere (etcd's desired state): throws, naming the field. */
export function checkEnabledRecord(key: string, value: JsonValue, problem: RecordProblem): void {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(key)) throw problem(`${PLUGIN_KIND} ${JSON.stringify(key)}`, 'the key must be a plugin name');
  restoreLayered(PLUGIN_KIND, key, value, {}, problem); // its shape: { enabled: { value, base } }
  for (const [field, layer] of Object.entries(value as Record<string, { value: unknown }>)) {
    if (field !== 'enabled' || typeof layer.value !== 'boolean') throw problem(`${PLUGIN_KIND} ${JSON.stringify(key)}`, `${field}: only "enabled", true or false, is saved`);
  }
}

export interface SavedPolicy {
  readonly registration: PolicyRegistration;
  readonly registeredBy: string;
  readonly registeredAtWall: number;
  readonly tokenDigest: string;
  readonly enabled: boolean;
  readonly expired: boolean;
}

/** The record of a policy as it is (or, with `change`, as it is about to be). */
export function policyRecord(entry: HttpPolicyEntry, change: { enabled?: boolean } = {}): StateChange {
  return {
    kind: POLICY_KIND,
    key: entry.name,
    value: {
      registration: entry.registration as unknown as JsonValue,
      registeredBy: entry.registeredBy,
      registeredAt: new Date(entry.registeredAtWall).toISOString(),
      tokenDigest: entry.tokenDigest,
      enabled: change.enabled ?? entry.enabled,
      expired: entry.isExpired,
    },
  };
}

export function decodePolicy(key: string, value: JsonValue, problem: RecordProblem): SavedPolicy {
  const r = new RecordReader(POLICY_KIND, key, value, problem);
  const reg = new RecordReader(POLICY_KIND, key, r.json('registration') ?? null, (where, p) => problem(where, `registration.${p}`));
  const name = reg.string('name', { maxChars: 32 });
  if (name !== key || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(name)) throw r.fail('registration.name', `must be the record's key, a policy name (found ${JSON.stringify(name)})`);
  const events = reg.json('events');
  // As many as the API takes (openapi.yaml's maxItems is the number of types): a registration it answered restores.
  if (!Array.isArray(events) || events.length > PLUGIN_EVENT_TYPES.length || !events.every((e) => PLUGIN_EVENT_TYPES.includes(e as PluginEventType))) {
    throw r.fail('registration.events', `must be up to ${PLUGIN_EVENT_TYPES.length} of ${PLUGIN_EVENT_TYPES.join(', ')}`);
  }
  const description = reg.optionalString('description', { maxChars: 200 });
  const leaseSeconds = reg.optionalInteger('leaseSeconds', { min: 5, max: 3600 });
  const delivery = reg.has('delivery') ? deliveryOf(new RecordReader(POLICY_KIND, key, reg.json('delivery') ?? null, (where, p) => problem(where, `registration.delivery.${p}`))) : undefined;
  const registeredAt = Date.parse(r.string('registeredAt', { maxChars: 40 }));
  if (!Number.isFinite(registeredAt)) throw r.fail('registeredAt', 'must be an ISO time');
  const tokenDigest = r.string('tokenDigest', { maxChars: 64 });
  if (!/^[0-9a-f]{64}$/.test(tokenDigest)) throw r.fail('tokenDigest', 'must be a SHA-256 digest (64 hex digits)');
  return {
    registration: {
      name,
      events: events as PluginEventType[],
      ...(description === undefined ? {} : { description }),
      ...(delivery === undefined ? {} : { delivery }),
      ...(leaseSeconds === undefined ? {} : { leaseSeconds }),
    } as PolicyRegistration,
    registeredBy: r.string('registeredBy', { maxChars: 256 }),
    registeredAtWall: registeredAt,
    tokenDigest,
    enabled: r.boolean('enabled'),
    expired: r.boolean('expired'),
  };
}

function deliveryOf(r: RecordReader): PolicyDelivery {
  const type = r.oneOf('type', ['sse', 'webhook'] as const);
  const url = r.optionalString('url', { maxChars: 2000 });
  if (url !== undefined && !/^https?:\/\//.test(url)) throw r.fail('url', 'must be http or https');
  return { type, ...(url === undefined ? {} : { url }) };
}

export function cleanupRecord(key: string, p: { plugin: string; actor: string; host: string } | undefined): StateChange {
  return { kind: CLEANUP_KIND, key, value: p ? { plugin: p.plugin, actor: p.actor, host: p.host } : null };
}

export function decodeCleanup(key: string, value: JsonValue, problem: RecordProblem): { plugin: string; actor: string; host: string } {
  const r = new RecordReader(CLEANUP_KIND, key, value, problem);
  const cleanup = { plugin: r.string('plugin', { maxChars: 64 }), actor: r.string('actor', { maxChars: 64 }), host: r.string('host', { maxChars: 64 }) };
  if (key !== `${cleanup.actor} ${cleanup.host}`) throw r.fail('', 'the key must be "ACTOR HOST" of its own fields');
  return cleanup;
}
