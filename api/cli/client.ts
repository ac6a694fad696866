/**
 * The CLI's HTTP client for a daemon's API. `base` is a URL
 * ("http://127.0.0.1:7000") or a unix socket ("unix:/run/vswitch.sock").
 * Errors come back as ApiClientError whose message is the problem's detail,
 * carrying the HTTP status and the problem+json the daemon sent.
 */
import { request } from 'node:http';
import { VswitchError } from '../../switch/errors.js';

export class ApiClientError extends VswitchError {
  constructor(
    message: string,
    readonly status?: number,
    readonly problem?: unknown,
    options?: { cause?: unknown },
  ) {
    super('api-client', message, options);
  }
}

export interface ApiClientOptions {
  base: string;
  token?: string;
  timeoutMs?: number;
}

export async function apiRequest<T>(opts: ApiClientOptions, method: string, path: string, body?: unknown): Promise<T> {
  const isUnix = opts.base.startsWith('unix:');
  const url = isUnix ? new URL(path, 'http://localhost') : new URL(path, opts.base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;

  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        ...(isUnix ? { socketPath: opts.base.slice('unix:'.length) } : { host: url.hostname, port: url.port }),
        path: url.pathname + url.search,
        method,
        headers,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: keep the text for the message below.
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(parsed as T);
          // The problem's detail is the message people see; status and body stay on the error.
          const detail = (parsed as { detail?: unknown } | undefined)?.detail;
          const message = typeof detail === 'string' && detail !== '' ? detail : `${method} ${path}: HTTP ${status}${text ? ` ${text.slice(0, 200)}` : ''}`;
          reject(new ApiClientError(message, status, parsed));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) =>
      reject(new ApiClientError(`cannot reach the daemon's API at ${opts.base}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, undefined, undefined, { cause: err })),
    );
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
