/**
 * The only file that opens the API's socket. `listen` is "host:port" or
 * "unix:/path"; the returned promise settles once the socket is bound (or
 * failed to bind), so the daemon never reports ready with a dead API.
 *
 * A unix socket is the API with full rights and no token, so only its owner
 * may connect: it is created mode 0600 (0660 when `socketGroup` names a group
 * that may use it too). The mode is set by the umask while the socket is
 * bound, so there is no moment at which it is open to others, and set again
 * with chmod afterwards (where the umask cannot be changed, as in a worker
 * thread, only the chmod). What is at the path beforehand is removed only if
 * it is a socket (a stale one from an earlier run): anything else there is an
 * error, not deleted.
 */
import { createAdaptorServer } from '@hono/node-server';
import { chmodSync, chownSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Env, Hono } from 'hono';
import { VswitchError } from '../../switch/errors.js';

export class ApiListenError extends VswitchError {
  constructor(listen: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown';
    super('api-listen', `API cannot listen on ${listen}: ${listenFailureWhy(listen, code)}`, { cause });
  }
}

/** The OS code, and for a permission failure what would grant it (the daemon runs unprivileged under systemd). */
function listenFailureWhy(listen: string, code: string): string {
  if (code !== 'EACCES' && code !== 'EPERM') return code;
  if (listen.startsWith('unix:')) return `permission denied: this user may not create the socket there (${code}); under systemd, use RuntimeDirectory (/run/vswitch/NAME/)`;
  return `permission denied: ports below 1024 need CAP_NET_BIND_SERVICE (${code})`;
}

export interface ApiServer {
  /** What is bound: the listen address, with the port the system chose when it was 0. */
  readonly address: string;
  close(): Promise<void>;
}

export interface ServeApiOptions {
  /**
   * The group (gid or name from /etc/group) that may use a unix socket too (config `api.socketGroup`): the socket
   * is then owned by it and mode 0660. Without it, mode 0600.
   */
  socketGroup?: number | string;
}

export function serveApi<E extends Env>(app: Hono<E>, listen: string, options: ServeApiOptions = {}): Promise<ApiServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const isUnix = listen.startsWith('unix:');
  const socketPath = listen.slice('unix:'.length);
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new ApiListenError(listen, err)));
    const ready = (): void => {
      server.removeAllListeners('error');
      let address = listen;
      if (isUnix) {
        try {
          secureSocket(socketPath, options.socketGroup);
        } catch (err) {
          server.close();
          reject(new ApiListenError(listen, err));
          return;
        }
      } else {
        const bound = server.address() as AddressInfo;
        address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
      }
      resolve({
        address,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    };
    if (isUnix) {
      removeStaleSocket(socketPath);
      const mode = options.socketGroup === undefined ? 0o600 : 0o660;
      withUmask(0o777 & ~mode, () => server.listen(socketPath, ready));
    } else {
      const colon = listen.lastIndexOf(':');
      const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
      server.listen(Number(listen.slice(colon + 1)), host, ready);
    }
  });
}

function secureSocket(path: string, group: number | string | undefined): void {
  if (group !== undefined) chownSync(path, -1, groupId(group));
  chmodSync(path, group === undefined ? 0o600 : 0o660);
}

/** Runs `bind` (which binds synchronously: net.Server.listen on a path) under `mask`, when this thread may set it. */
function withUmask(mask: number, bind: () => void): void {
  let previous: number | undefined;
  try {
    previous = process.umask(mask);
  } catch {
    // Worker threads cannot change the umask: secureSocket's chmod alone sets the mode.
  }
  try {
    bind();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (isSocket) rmSync(path, { force: true });
}

/** A gid, or a group name looked up in /etc/group. */
export function groupId(group: number | string, groupFile = '/etc/group'): number {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw Object.assign(new Error(`no group "${group}" in ${groupFile}`), { code: 'ENOGROUP' });
}
