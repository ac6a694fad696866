#!/usr/bin/env node
// Measures an etcd client for the Proxy election (docs/ha.md): RSS the client adds, latency of the election's
// create-if-absent txn, of a lease keepalive. One client per run (a fresh process), so RSS is its own:
//   node scripts/bench/etcd-client.mjs gateway http://127.0.0.1:2379
//   ETCD3_DIR=/tmp/etcd3-measure node scripts/bench/etcd-client.mjs etcd3 http://127.0.0.1:2379
// (ETCD3_DIR: a directory where `npm install etcd3` ran; the repository does not depend on it.)
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [kind = 'gateway', url = 'http://127.0.0.1:2379', n = '300'] = process.argv.slice(2);
const rounds = Number(n);
const rss = () => process.memoryUsage().rss;
const ms = (a) => a.sort((x, y) => x - y);
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(2);

async function client() {
  if (kind === 'gateway') {
    const { EtcdGateway } = await import(pathToFileURL(new URL('../../dist/switch/ha/etcd-gateway.js', import.meta.url).pathname).href);
    const g = new EtcdGateway({ endpoints: [url] });
    return {
      grant: (ttl) => g.grantLease(ttl),
      keepAlive: (id) => g.keepAlive(id),
      txn: (key, id) => g.createIfAbsent(key, 'p', id),
      close: () => undefined,
    };
  }
  const require = createRequire(process.env.ETCD3_DIR + '/');
  const { Etcd3 } = require('etcd3');
  const e = new Etcd3({ hosts: [url] });
  return {
    grant: async (ttl) => (await e.leaseClient.leaseGrant({ TTL: ttl })).ID,
    keepAlive: async (id) => (await e.leaseClient.leaseTimeToLive({ ID: id })).TTL, // unary stand-in; etcd3 keeps alive on a stream
    txn: (key, id) =>
      e.kv.txn({
        compare: [{ key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: Buffer.from(key), value: Buffer.from('p'), lease: id } }],
        failure: [{ request_range: { key: Buffer.from(key) } }],
      }),
    close: () => e.close(),
  };
}

globalThis.gc?.();
const before = rss();
const c = await client();
const lease = await c.grant(30);
const txn = [];
const ka = [];
for (let i = 0; i < rounds; i++) {
  let t = performance.now();
  await c.txn(`/bench/${kind}/${i % 2}`, lease);
  txn.push(performance.now() - t);
  t = performance.now();
  await c.keepAlive(lease);
  ka.push(performance.now() - t);
}
globalThis.gc?.();
const after = rss();
ms(txn);
ms(ka);
console.log(JSON.stringify({ client: kind, rounds, rssAddedMiB: +((after - before) / 2 ** 20).toFixed(1), txnMs: { p50: pct(txn, 0.5), p99: pct(txn, 0.99) }, keepAliveMs: { p50: pct(ka, 0.5), p99: pct(ka, 0.99) } }));
c.close();
