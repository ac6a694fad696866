/**
 * A server-sent-events reader for the CLI (`topology app --watch`): GET `path` on the daemon's API and call
 * `onEvent(name, data, event)` per event, parsed by the shared SseParser (api/wire/sse-parser.ts, the one the
 * dashboard uses too). Resolves when the stream ends, `signal` aborts, or `onEvent` returns false; rejects with
 * ApiClientError when the daemon answers an error.
 */
import { request } from 'node:http';
import { ApiClientError, type ApiClientOptions } from '../cli/client.js';
import { SseParser, type SseEvent } from './sse-parser.js';

export function readEventStream(
  opts: ApiClientOptions,
  path: string,
  onEvent: (name: string, data: string, event: SseEvent) => boolean | void,
  signal?: AbortSignal,
): Promise<void> {
  const isUnix = opts.base.startsWith('unix:');
  const url = isUnix ? new URL(path, 'http://localhost') : new URL(path, opts.base);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = request(
      { ...(isUnix ? { socketPath: opts.base.slice('unix:'.length) } : { host: url.hostname, port: url.port }), path: url.pathname + url.search, method: 'GET', headers },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let problem: unknown;
            try {
              problem = JSON.parse(text);
            } catch {
              problem = text;
            }
            const detail = (problem as { detail?: unknown } | undefined)?.detail;
            reject(new ApiClientError(typeof detail === 'string' ? detail : `GET ${path}: HTTP ${status}`, status, problem));
          });
          return;
        }
        res.setEncoding('utf8');
        const parser = new SseParser();
        res.on('data', (chunk: string) => {
          for (const event of parser.push(chunk)) {
            if (onEvent(event.event, event.data, event) === false) {
              req.destroy();
              return resolve();
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      },
    );
    req.on('error', (err) => {
      if (signal?.aborted) return resolve();
      reject(new ApiClientError(`cannot reach the daemon's API at ${opts.base}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, undefined, undefined, { cause: err }));
    });
    signal?.addEventListener('abort', () => {
      req.destroy();
      resolve();
    });
    req.end();
  });
}
