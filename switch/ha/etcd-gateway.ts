/**
 * An etcd v3 client over the JSON gRPC-gateway every etcd member serves on its client port (`/v3/kv/txn`,
 * `/v3/lease/grant`, …), with Node's fetch: no dependency, no native code. Measured against the `etcd3` package
 * (grpc-js) in docs/ha.md. etcd's int64s travel as decimal strings and keys and values as base64.
 *
 * Several members: a request goes to the member that answered last, and on a failure (refused, timed out, an
 * HTTP error) to the next one, each within `timeoutMs`; only when none answers does the call fail (EtcdUnavailableError).
 */
import { VswitchError } from '../errors.js';
import type { CreateResult, Etcd, EtcdKeyValue, EtcdOp } from './etcd.js';

export class EtcdUnavailableError extends VswitchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('etcd-unavailable', message, { httpStatus: 503, ...options });
  }
}

export class EtcdRefusedError extends VswitchError {
  constructor(message: string) {
    super('etcd-refused', message, { httpStatus: 502 });
  }
}

export interface EtcdGatewayOptions {
  /** Client URLs of the members, e.g. http://198.18.0.201:2379. */
  endpoints: readonly string[];
  /** Per request and member; default 1000 ms. */
  timeoutMs?: number;
  /** Injected for tests; default globalThis.fetch. */
  fetch?: typeof fetch;
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');

export class EtcdGateway implements Etcd {
  private current = 0;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: EtcdGatewayOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints');
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  async grantLease(ttlS: number): Promise<string> {
    const res = (await this.call('/v3/lease/grant', { TTL: String(ttlS) })) as { ID?: string; error?: string };
    if (typeof res.ID !== 'string') throw new EtcdUnavailableError(`etcd: lease grant answered no id (${res.error ?? 'no error'})`);
    return res.ID;
  }

  async keepAlive(lease: string): Promise<number> {
    // The gateway maps the keepalive stream onto one POST: one request, one answer, then the body ends.
    const res = (await this.call('/v3/lease/keepalive', { ID: lease })) as { result?: { TTL?: string } };
    return Number(res.result?.TTL ?? 0);
  }

  async revokeLease(lease: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: lease }).catch((err: unknown) => {
      if (!(err instanceof EtcdRefusedError)) throw err; // already gone: what a revoke wants
    });
  }

  async createIfAbsent(key: string, value: string, lease: string): Promise<CreateResult> {
    const k = b64(key);
    const res = (await this.call('/v3/kv/txn', {
      compare: [{ key: k, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key: k, value: b64(value), lease } }],
      failure: [{ request_range: { key: k } }],
    })) as { succeeded?: boolean; header?: { revision?: string }; responses?: { response_range?: { kvs?: RawKv[] } }[] };
    if (res.succeeded === true) return { created: true, revision: Number(res.header?.revision ?? 0) };
    const kv = res.responses?.[0]?.response_range?.kvs?.[0];
    // Deleted between the compare and the range cannot happen (one transaction); an empty range means a bad answer.
    if (!kv) throw new EtcdUnavailableError(`etcd: the transaction on ${key} failed and read nothing`);
    return { created: false, holder: toKv(kv) };
  }

  async get(key: string): Promise<EtcdKeyValue | undefined> {
    const res = (await this.call('/v3/kv/range', { key: b64(key) })) as { kvs?: RawKv[] };
    const kv = res.kvs?.[0];
    return kv ? toKv(kv) : undefined;
  }

  async put(key: string, value: string): Promise<number> {
    const res = (await this.call('/v3/kv/put', { key: b64(key), value: b64(value) })) as { header?: { revision?: string } };
    return Number(res.header?.revision ?? 0);
  }

  async range(prefix: string): Promise<EtcdKeyValue[]> {
    const res = (await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix).toString('base64') })) as { kvs?: RawKv[] };
    return (res.kvs ?? []).map(toKv);
  }

  async apply(ops: readonly EtcdOp[]): Promise<number> {
    // A transaction with no compare always succeeds: its operations apply together, or not at all.
    const success = ops.map((op) => (op.value === null ? { request_delete_range: { key: b64(op.key) } } : { request_put: { key: b64(op.key), value: b64(op.value) } }));
    const res = (await this.call('/v3/kv/txn', { success })) as { header?: { revision?: string } };
    return Number(res.header?.revision ?? 0);
  }

  private async call(path: string, body: unknown): Promise<unknown> {
    const { endpoints } = this.options;
    const problems: string[] = [];
    for (let i = 0; i < endpoints.length; i++) {
      const at = (this.current + i) % endpoints.length;
      const url = endpoints[at]!.replace(/\/+$/, '') + path;
      try {
        const res = await this.fetchFn(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
        const text = await res.text();
        // A 4xx is etcd's answer (a lease not found, a bad request): asking another member would change nothing.
        if (res.status >= 400 && res.status < 500) throw new EtcdRefusedError(`etcd: ${path} refused: ${text.slice(0, 200)}`);
        if (!res.ok) {
          problems.push(`${endpoints[at]}: HTTP ${res.status} ${text.slice(0, 120)}`);
          continue;
        }
        this.current = at;
        return JSON.parse(text) as unknown;
      } catch (err) {
        if (err instanceof EtcdRefusedError) throw err;
        problems.push(`${endpoints[at]}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new EtcdUnavailableError(`etcd: no member answered ${path} (${problems.join('; ')})`);
  }
}

/** The end of the range of keys that start with `prefix`: the prefix with its last byte one higher (etcd's clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Buffer.from([0]); // all 0xff: every key from the prefix on
}

function toKv(kv: RawKv): EtcdKeyValue {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    lease: kv.lease ?? '0',
  };
}
