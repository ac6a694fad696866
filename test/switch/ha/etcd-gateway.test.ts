/**
 * The fetch client against a real etcd member (Debian's etcd-server, installed by scripts/setup) on loopback;
 * fails, saying so, where the binary is missing (never a silent skip). The same calls the election makes, with etcd's own semantics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdGateway, EtcdUnavailableError } from '../../../switch/ha/etcd-gateway.js';

const ETCD = '/usr/bin/etcd';

describe('EtcdGateway on a real etcd', () => {
  it('has etcd to run against', () => {
    expect(existsSync(ETCD), `${ETCD} is missing: scripts/setup installs Debian's etcd-server`).toBe(true);
  });

  let child: ChildProcess;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vswitch-etcd-'));
    const port = 24000 + Math.floor(Math.random() * 4000) * 2;
    url = `http://127.0.0.1:${port}`;
    const peer = `http://127.0.0.1:${port + 1}`;
    child = spawn(ETCD, ['--name', 't', '--data-dir', join(dir, 'data'), '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `t=${peer}`], { stdio: 'ignore' });
    const etcd = new EtcdGateway({ endpoints: [url], timeoutMs: 500 });
    for (let i = 0; i < 100; i++) {
      if (await etcd.get('/ready').then(() => true, () => false)) return;
      await new Promise((r) => setTimeout(r, 100)); // waiting for a process to listen, not for logic
    }
    throw new Error('etcd did not start');
  }, 15_000);

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a key once on a lease; the second campaign reads the holder; the epoch is the create revision', async () => {
    const etcd = new EtcdGateway({ endpoints: [url] });
    const a = await etcd.grantLease(5);
    const b = await etcd.grantLease(5);
    const won = await etcd.createIfAbsent('/e/leader', 'p1', a);
    expect(won.created).toBe(true);
    const lost = await etcd.createIfAbsent('/e/leader', 'p2', b);
    expect(lost).toEqual({ created: false, holder: expect.objectContaining({ value: 'p1', lease: a, createRevision: won.created ? won.revision : -1 }) });
    expect(await etcd.keepAlive(a)).toBe(5);
    await etcd.revokeLease(a);
    expect(await etcd.get('/e/leader')).toBeUndefined(); // the key left with its lease
    expect(await etcd.keepAlive(a)).toBe(0);
    await etcd.revokeLease(a); // twice: no error
    const again = await etcd.createIfAbsent('/e/leader', 'p2', b);
    expect(again.created && again.revision).toBeGreaterThan(won.created ? won.revision : 0);
  });

  it('puts and reads back text (base64 on the wire)', async () => {
    const etcd = new EtcdGateway({ endpoints: [url] });
    const rev = await etcd.put('/e/state', 'é {"x":1}');
    expect(await etcd.get('/e/state')).toMatchObject({ value: 'é {"x":1}', modRevision: rev });
  });

  it('reads a prefix (and nothing past it), and puts and deletes in one transaction', async () => {
    const etcd = new EtcdGateway({ endpoints: [url] });
    await etcd.apply([
      { key: '/s/fastpath/settings', value: '{"a":1}' },
      { key: '/s/policy/p1', value: '{}' },
      { key: '/s0', value: 'next to the prefix' },
      { key: '/s', value: 'the prefix without its slash' },
    ]);
    expect((await etcd.range('/s/')).map((kv) => [kv.key, kv.value])).toEqual([
      ['/s/fastpath/settings', '{"a":1}'],
      ['/s/policy/p1', '{}'],
    ]);
    const rev = await etcd.apply([{ key: '/s/policy/p1', value: null }, { key: '/s/policy/p2', value: '2' }]);
    const after = await etcd.range('/s/');
    expect(after.map((kv) => kv.key)).toEqual(['/s/fastpath/settings', '/s/policy/p2']);
    expect(after[1]!.modRevision).toBe(rev);
  });

  it('goes on to the next member when one does not answer, and fails only when none does', async () => {
    const dead = 'http://127.0.0.1:9'; // discard port: refused at once
    const etcd = new EtcdGateway({ endpoints: [dead, url], timeoutMs: 500 });
    expect(await etcd.put('/e/x', '1')).toBeGreaterThan(0);
    await expect(new EtcdGateway({ endpoints: [dead], timeoutMs: 500 }).get('/e/x')).rejects.toBeInstanceOf(EtcdUnavailableError);
  });
});
