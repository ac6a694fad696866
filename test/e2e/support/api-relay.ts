/**
 * An HTTP client for a lab daemon's API from outside its namespace: a tiny relay runs inside the namespace and
 * forwards a unix socket (filesystem sockets cross network namespaces) to 127.0.0.1:7000 there. It outlives the
 * daemon's restarts — a request while the daemon is down fails, and the next one reaches the new daemon — so a
 * test can make many changes quickly, without a `vswitch` process per call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RELAY = `
const net = require('node:net');
const socket = process.argv[1];
try { require('node:fs').unlinkSync(socket); } catch {}
net.createServer((c) => {
  const u = net.connect(7000, '127.0.0.1');
  c.pipe(u); u.pipe(c);
  u.on('error', () => c.destroy()); c.on('error', () => u.destroy());
}).listen(socket);
`;

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ApiRelay {
  call(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  stop(): void;
}

export async function startApiRelay(ns: string): Promise<ApiRelay> {
  const socket = join(mkdtempSync(join(tmpdir(), 'vswitch-relay-')), 'api.sock');
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', RELAY, socket], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  if (!existsSync(socket)) throw new Error(`the API relay in ${ns} did not start`);
  return {
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            socketPath: socket,
            path,
            method,
            agent: false,
            timeout: 10_000,
            // The daemon checks that Host names its own listen address (api/http/request-guard.ts).
            headers: { host: '127.0.0.1:7000', accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      }),
    stop: () => void child.kill('SIGTERM'),
  };
}
