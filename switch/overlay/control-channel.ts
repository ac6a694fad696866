/**
 * Request/response and one-way messages over the links' control payloads.
 * Requests carry an id; the answer settles the matching promise, or a timeout
 * does (RelayError 'host-timeout'). A malformed message is logged with its
 * reason, counted, and changes nothing.
 */
import { VswitchError, type FieldProblem } from '../errors.js';
import type { Logger } from '../log.js';
import { systemClock, type Timer, type TimerClock } from '../clock.js';
import {
  encodeControlMessage,
  parseControlMessage,
  type ControlExtensions,
  type ControlMessage,
  type PrimitiveOp,
  type RequestMessage,
  type ResponseMessage,
} from './control-messages.js';
import { RelayError } from './primitives.js';

/** An error a host answered with, keeping its code (and field) so the API maps it like a local one. */
export class RemotePrimitiveError extends VswitchError {
  constructor(
    code: string,
    message: string,
    readonly field?: string,
    status?: number,
  ) {
    // The host's own error class said which status it is; a host that did not say is a bad gateway.
    super(code, message, { httpStatus: status ?? 502 });
  }

  override fieldErrors(): FieldProblem[] | undefined {
    return this.field === undefined ? undefined : [{ field: `/body/${this.field}`, message: this.message }];
  }
}

export interface ControlChannelOptions {
  /** Sends an encoded control message to a peer; false when there is no such link. */
  send(peer: string, body: Uint8Array): boolean;
  log: Logger;
  /** Runs the answer timeouts (default: real time). */
  clock?: TimerClock;
  timeoutMs?: number;
  /** Runs a request from `peer` (the daemon decides who may ask). */
  onRequest?(peer: string, request: RequestMessage): Promise<unknown>;
  onMessage?(peer: string, message: Exclude<ControlMessage, RequestMessage | ResponseMessage>): void;
  /** Message types plugins add (control-messages.ts ControlExtension). */
  extensions?: ControlExtensions;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: Timer;
}

export class ControlChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  readonly malformed: Record<string, number> = {};

  constructor(private readonly options: ControlChannelOptions) {}

  send(peer: string, message: ControlMessage): boolean {
    return this.options.send(peer, encodeControlMessage(message, this.options.extensions));
  }

  request(peer: string, op: PrimitiveOp, args: unknown[], actor: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = (this.options.clock ?? systemClock).after(this.options.timeoutMs ?? 5000, () => {
        this.pending.delete(id);
        reject(new RelayError('host-timeout', `host ${peer} did not answer ${op} within ${this.options.timeoutMs ?? 5000} ms`));
      });
      this.pending.set(id, { resolve, reject, timer });
      if (!this.send(peer, { t: 'req', id, op, args, actor })) {
        timer.cancel();
        this.pending.delete(id);
        reject(new RelayError('host-unreachable', `no link to host ${peer}`));
      }
    });
  }

  receive(peer: string, body: Uint8Array): void {
    const parsed = parseControlMessage(body, this.options.extensions);
    if (!parsed.ok) {
      this.malformed[parsed.reason] = (this.malformed[parsed.reason] ?? 0) + 1;
      this.options.log.warn('control message rejected', { peer, reason: parsed.reason });
      return;
    }
    const message = parsed.message;
    if (message.t === 'res') return this.settle(message);
    if (message.t === 'req') return void this.answer(peer, message);
    this.options.onMessage?.(peer, message);
  }

  close(): void {
    for (const [id, p] of this.pending) {
      p.timer.cancel();
      p.reject(new RelayError('host-unreachable', 'the daemon is stopping'));
      this.pending.delete(id);
    }
  }

  private settle(message: ResponseMessage): void {
    const p = this.pending.get(message.id);
    if (!p) return; // late answer after a timeout: nothing waits for it
    p.timer.cancel();
    this.pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new RemotePrimitiveError(message.error!.code, message.error!.message, message.error!.field, message.error!.status));
  }

  private async answer(peer: string, request: RequestMessage): Promise<void> {
    let response: ResponseMessage;
    try {
      if (!this.options.onRequest) throw new VswitchError('forbidden', 'this daemon does not take requests');
      const result = await this.options.onRequest(peer, request);
      response = { t: 'res', id: request.id, ok: true, result: result ?? null };
    } catch (err) {
      const e = err as { code?: string; message?: string; field?: string; httpStatus?: number };
      const status = typeof e.httpStatus === 'number' && e.httpStatus >= 400 && e.httpStatus < 500 ? { status: e.httpStatus } : {};
      response = {
        t: 'res',
        id: request.id,
        ok: false,
        error: { code: e.code ?? 'internal', message: e.message ?? String(err), ...(e.field ? { field: e.field } : {}), ...status },
      };
    }
    this.send(peer, response);
  }
}
