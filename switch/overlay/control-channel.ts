/**
 * Request/response and one-way messages over the links' control payloads.
 * Requests carry an id; the answer settles the matching promise, or a timeout
 * does (RelayError 'host-timeout'). A malformed message is logged with its
 * reason, counted, and changes nothing.
 *
 * Who may answer: a request is settled only by an answer from the peer it was
 * sent to, with its id. Ids are random 64-bit values from the injected
 * randomBytes (16 hex digits), so one host can neither answer for another nor
 * guess what another was asked. An answer from the wrong peer, to an unknown
 * id, or with a result that is not what its op returns is dropped and counted
 * (the last one also fails the request at once: 'host-invalid-answer'). A
 * host's error keeps its HTTP status only when a primitive error has it
 * (REMOTE_ERROR_STATUSES), else it is a 502.
 *
 * How much a peer may make it read is bounded when `rateLimit` is given (the Proxy): per peer a token bucket, plus
 * one message per request sent to that peer and not answered yet (control-budget.ts); a message beyond is dropped
 * before it is parsed, counted `rate-limited`.
 *
 * What is counted is bounded: `malformed` is keyed by the fixed reasons of
 * control-messages.ts (CONTROL_DROP_REASONS); logs carry a detail of at most
 * 200 characters, every refusal for the first 10 of a reason, then the 16th,
 * 32nd, 64th… (the counters keep the exact number).
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { VswitchError, type FieldProblem } from '../errors.js';
import type { Logger } from '../log.js';
import { systemClock, type Timer, type TimerClock } from '../clock.js';
import {
  checkPrimitiveResult,
  CONTROL_ERROR_CODE,
  encodeControlMessage,
  parseControlMessage,
  type ControlDropReason,
  type ControlExtensions,
  type ControlMessage,
  type PrimitiveOp,
  type RequestMessage,
  type ResponseMessage,
  truncate,
} from './control-messages.js';
import { SHAPE_LIMITS } from './control-schemas.js';
import { PeerControlBudget } from './control-budget.js';
import { RelayError } from './primitives.js';
import type { TokenRate } from '../token-bucket.js';

/**
 * The HTTP statuses a host's primitive errors carry that keep their meaning on the Proxy: 400 (invalid input),
 * 403 (forbidden), 404 (not found), 409 (conflict). Any other status a host sends — 401, 429, … — becomes 502:
 * a host must not make the Proxy's API ask the operator to log in again, or to back off, on its behalf.
 */
export const REMOTE_ERROR_STATUSES: ReadonlySet<number> = new Set([400, 403, 404, 409]);

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
  /** Source of request ids (8 bytes each); default node:crypto. */
  randomBytes?: (n: number) => Uint8Array;
  /** Messages read per peer beyond the answers it owes (control-budget.ts CONTROL_RATE); absent: unbounded. */
  rateLimit?: TokenRate;
}

interface Pending {
  /** The peer the request went to: the only one whose answer settles it. */
  peer: string;
  op: PrimitiveOp;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: Timer;
}

const ID_BYTES = 8;
/** Refusals of one reason logged one by one; after that only the 16th, 32nd, 64th, … */
const LOG_EVERY_REFUSAL_UP_TO = 10;

export class ControlChannel {
  private readonly pending = new Map<string, Pending>();
  private readonly randomBytes: (n: number) => Uint8Array;
  /** Refused messages by reason (a fixed set: CONTROL_DROP_REASONS and "<extension>-invalid"). */
  readonly malformed: Record<string, number> = {};
  /** Per peer (a link name: as many as there are links), when rate-limited. */
  private readonly budgets: Map<string, PeerControlBudget> | undefined;
  private readonly clock: TimerClock;

  constructor(private readonly options: ControlChannelOptions) {
    this.randomBytes = options.randomBytes ?? ((n) => new Uint8Array(cryptoRandomBytes(n)));
    this.clock = options.clock ?? systemClock;
    this.budgets = options.rateLimit ? new Map() : undefined;
  }

  send(peer: string, message: ControlMessage): boolean {
    return this.options.send(peer, encodeControlMessage(message, this.options.extensions));
  }

  request(peer: string, op: PrimitiveOp, args: unknown[], actor: string): Promise<unknown> {
    const id = this.newId();
    const budget = this.budgetOf(peer);
    return new Promise((resolve, reject) => {
      const timer = this.clock.after(this.options.timeoutMs ?? 5000, () => {
        this.pending.delete(id);
        budget?.settled();
        reject(new RelayError('host-timeout', `host ${peer} did not answer ${op} within ${this.options.timeoutMs ?? 5000} ms`));
      });
      this.pending.set(id, { peer, op, resolve, reject, timer });
      budget?.requested();
      if (!this.send(peer, { t: 'req', id, op, args, actor })) {
        timer.cancel();
        this.pending.delete(id);
        budget?.settled();
        reject(new RelayError('host-unreachable', `no link to host ${peer}`));
      }
    });
  }

  receive(peer: string, body: Uint8Array): void {
    if (this.budgetOf(peer)?.admit(this.clock.now()) === false) {
      return this.refuse(peer, 'rate-limited', `over ${this.options.rateLimit!.perSecond} messages a second beyond the answers it owes`);
    }
    const parsed = parseControlMessage(body, this.options.extensions);
    if (!parsed.ok) return this.refuse(peer, parsed.reason, parsed.detail);
    const message = parsed.message;
    if (message.t === 'res') return this.settle(peer, message);
    if (message.t === 'req') return void this.answer(peer, message);
    this.options.onMessage?.(peer, message);
  }

  close(): void {
    for (const [id, p] of this.pending) {
      p.timer.cancel();
      this.budgetOf(p.peer)?.settled();
      p.reject(new RelayError('host-unreachable', 'the daemon is stopping'));
      this.pending.delete(id);
    }
  }

  private settle(peer: string, message: ResponseMessage): void {
    const key = typeof message.id === 'string' ? message.id : '';
    const p = this.pending.get(key);
    // A late answer after a timeout lands here too: nothing waits for it.
    if (!p) return this.refuse(peer, 'res-unknown-id', 'an answer to no pending request');
    if (p.peer !== peer) return this.refuse(peer, 'res-wrong-peer', `an answer to a request sent to ${p.peer}`);
    p.timer.cancel();
    this.pending.delete(key);
    this.budgetOf(peer)?.settled();
    if (!message.ok) {
      const { code, message: text, field, status } = message.error!;
      p.reject(new RemotePrimitiveError(code, text, field, status !== undefined && REMOTE_ERROR_STATUSES.has(status) ? status : undefined));
      return;
    }
    const checked = checkPrimitiveResult(p.op, message.result);
    if (!checked.ok) {
      this.refuse(peer, 'res-result-invalid', `${p.op}: ${checked.problem}`);
      p.reject(new RelayError('host-invalid-answer', `host ${peer} answered ${p.op} with a malformed result`));
      return;
    }
    p.resolve(checked.value);
  }

  /**
   * Counts and logs a refused message. The channel refuses what is malformed; the overlay refuses through here what
   * is well-formed but not the sender's to send (a move announcement from a host), under the same fixed reasons.
   */
  refuse(peer: string, reason: ControlDropReason, detail: string): void {
    const n = (this.malformed[reason] ?? 0) + 1;
    this.malformed[reason] = n;
    if (n <= LOG_EVERY_REFUSAL_UP_TO || (n & (n - 1)) === 0) {
      this.options.log.warn('control message rejected', { peer, reason, detail: truncate(detail), count: n });
    }
  }

  private budgetOf(peer: string): PeerControlBudget | undefined {
    if (!this.budgets) return undefined;
    let budget = this.budgets.get(peer);
    if (!budget) this.budgets.set(peer, (budget = new PeerControlBudget(this.options.rateLimit)));
    return budget;
  }

  /** A fresh random id, 16 hex digits (64 bits), not pending already. */
  private newId(): string {
    for (;;) {
      const bytes = this.randomBytes(ID_BYTES);
      if (bytes.length < ID_BYTES) throw new VswitchError('internal', `randomBytes returned ${bytes.length} bytes, wanted ${ID_BYTES}`);
      const id = Buffer.from(bytes.buffer, bytes.byteOffset, ID_BYTES).toString('hex');
      if (!this.pending.has(id)) return id;
    }
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
        // Cut to what the other end accepts (control-messages.ts), so a long message still arrives as an error.
        error: {
          code: typeof e.code === 'string' && CONTROL_ERROR_CODE.test(e.code) ? e.code : 'internal',
          message: truncate(e.message ?? String(err), SHAPE_LIMITS.textChars),
          ...(typeof e.field === 'string' ? { field: truncate(e.field, SHAPE_LIMITS.ownerChars) } : {}),
          ...status,
        },
      };
    }
    this.send(peer, response);
  }
}
