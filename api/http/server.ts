/**
 * The only file that opens the API's socket. `listen` is "host:port" or
 * "unix:/path"; the returned promise settles once the socket is bound (or
 * failed to bind), so the daemon never reports ready with a dead API.
 */
import { createAdaptorServer } from '@hono/node-server';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Env, Hono } from 'hono';
import { VswitchError } from '../../switch/errors.js';

export class ApiListenError extends VswitchError {
  constructor(listen: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown';
    super('api-listen', `API cannot listen on ${listen}: ${code}`, { cause });
  }
}

export interface ApiServer {
  readonly address: string;
  close(): Promise<void>;
}

export function serveApi<E extends Env>(app: Hono<E>, listen: string): Promise<ApiServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const isUnix = listen.startsWith('unix:');
  const socketPath = listen.slice('unix:'.length);
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new ApiListenError(listen, err)));
    const ready = (): void => {
      server.removeAllListeners('error');
      resolve({
        address: listen,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    };
    if (isUnix) {
      rmSync(socketPath, { force: true });
      server.listen(socketPath, ready);
    } else {
      const colon = listen.lastIndexOf(':');
      const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
      server.listen(Number(listen.slice(colon + 1)), host, ready);
    }
  });
}
