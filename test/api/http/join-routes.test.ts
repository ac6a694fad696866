/**
 * The join routes on a real Proxy daemon (API on a unix socket with tokens): creating a token is an operator's act
 * (a read-only token and a policy's token get 403), the list never holds a secret, revoking keeps the token as
 * revoked, bad input is a 400 naming the field, and a daemon without `join:` answers 404 join-off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, ApiClientError } from '../../../api/cli/client.js';
import type { components } from '../../../api/generated/openapi.js';
import { decodeJoinToken } from '../../../switch/join/join-token.js';
import { startJoinProxy, VIEW_TOKEN, type JoinProxy } from '../../support/join-proxy.js';

type Created = components['schemas']['JoinTokenCreated'];
type JoinToken = components['schemas']['JoinToken'];

let proxy: JoinProxy;
beforeAll(async () => {
  proxy = await startJoinProxy();
});
afterAll(() => proxy.stop());

const call = <T>(method: string, path: string, body?: unknown, token = proxy.api.token): Promise<T> => apiRequest<T>({ base: proxy.api.base, token }, method, path, body);

async function failure(p: Promise<unknown>): Promise<{ status?: number; code?: string; field?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as ApiClientError;
    const problem = e.problem as { code?: string; errors?: { field: string }[] } | undefined;
    return { ...(e.status === undefined ? {} : { status: e.status }), ...(problem?.code ? { code: problem.code } : {}), ...(problem?.errors?.[0] ? { field: problem.errors[0].field } : {}) };
  }
  throw new Error('the request succeeded');
}

describe('the join routes', () => {
  it('create a token carrying the advertised address, the pin and the name; shown once', async () => {
    const status = await call<components['schemas']['JoinStatus']>('GET', '/v1/join');
    const created = await call<Created>('POST', '/v1/join-tokens', { name: 'h9', expiresInS: 600 });
    expect(created).toMatchObject({ name: 'h9', state: 'live', createdBy: 'ops' });
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(600_000);
    const fields = decodeJoinToken(created.token);
    expect(fields).toMatchObject({ id: created.id, name: 'h9', host: '127.0.0.1', port: Number(status.advertise.split(':')[1]) });
    expect(Buffer.from(fields.pin).toString('hex').toUpperCase().match(/../g)!.join(':')).toBe(status.pin);
    const { tokens } = await call<{ tokens: JoinToken[] }>('GET', '/v1/join-tokens', undefined, VIEW_TOKEN);
    expect(tokens.find((t) => t.id === created.id)).not.toHaveProperty('token');
    expect(JSON.stringify(tokens)).not.toContain(Buffer.from(fields.secret).toString('base64url'));
  });

  it('revoke a token: kept as revoked; an unknown id is 404, a malformed one 400', async () => {
    const created = await call<Created>('POST', '/v1/join-tokens', {});
    expect(await call<JoinToken>('DELETE', `/v1/join-tokens/${created.id}`)).toMatchObject({ id: created.id, state: 'revoked' });
    expect(await failure(call('DELETE', '/v1/join-tokens/ffffffffffffffff'))).toMatchObject({ status: 404, code: 'not-found' });
    expect(await failure(call('DELETE', '/v1/join-tokens/nothex'))).toMatchObject({ status: 400, field: '/path/id' });
  });

  it('refuse bad input, naming the field, and change nothing', async () => {
    const before = (await call<{ tokens: JoinToken[] }>('GET', '/v1/join-tokens')).tokens.length;
    expect(await failure(call('POST', '/v1/join-tokens', { expiresInS: 0 }))).toMatchObject({ status: 400, field: '/body/expiresInS' });
    expect(await failure(call('POST', '/v1/join-tokens', { expiresInS: 604_801 }))).toMatchObject({ status: 400 });
    expect(await failure(call('POST', '/v1/join-tokens', { name: 'Bad Name' }))).toMatchObject({ status: 400, field: '/body/name' });
    expect(await failure(call('POST', '/v1/join-tokens', { secret: 'mine' }))).toMatchObject({ status: 400 });
    expect((await call<{ tokens: JoinToken[] }>('GET', '/v1/join-tokens')).tokens).toHaveLength(before);
  });

  it('are an operator\'s: a read-only token and a policy\'s token may not create, revoke or remove', async () => {
    expect(await failure(call('POST', '/v1/join-tokens', {}, VIEW_TOKEN))).toMatchObject({ status: 403, code: 'forbidden' });
    const policy = await call<{ token: string }>('POST', '/v1/plugins', { name: 'pin', events: ['host'] });
    expect(await failure(call('POST', '/v1/join-tokens', {}, policy.token))).toMatchObject({ status: 403, code: 'policy-forbidden' });
    const created = await call<Created>('POST', '/v1/join-tokens', {});
    expect(await failure(call('DELETE', `/v1/join-tokens/${created.id}`, undefined, policy.token))).toMatchObject({ status: 403, code: 'policy-forbidden' });
    expect(await failure(call('DELETE', '/v1/joined-hosts/h9', undefined, policy.token))).toMatchObject({ status: 403 });
  });

  it("refuse a token for a name that is taken in the overlay (the Proxy's own), and a second live token for a name", async () => {
    expect(await failure(call('POST', '/v1/join-tokens', { name: 'proxy' }))).toMatchObject({ status: 409, code: 'join-name-taken' });
    await call('POST', '/v1/join-tokens', { name: 'h20' });
    expect(await failure(call('POST', '/v1/join-tokens', { name: 'h20' }))).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('list the joined hosts; removing one that is not there is 404', async () => {
    expect(await call('GET', '/v1/joined-hosts')).toEqual({ hosts: [] });
    expect(await failure(call('DELETE', '/v1/joined-hosts/h9'))).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('answer 404 join-off on a daemon without `join:`', async () => {
    const plain = await startJoinProxy({ join: false });
    try {
      for (const [method, path] of [['GET', '/v1/join'], ['GET', '/v1/join-tokens'], ['POST', '/v1/join-tokens'], ['GET', '/v1/joined-hosts']] as const) {
        expect(await failure(apiRequest(plain.api, method, path, method === 'POST' ? {} : undefined))).toMatchObject({ status: 404, code: 'join-off' });
      }
    } finally {
      await plain.stop();
    }
  });
});
