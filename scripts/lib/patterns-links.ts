/**
 * The TCP links of one `patterns` rank: listen, connect to higher-ranked neighbours (retrying while they start),
 * accept lower-ranked ones (identified by their hello), and a mailbox of received messages keyed by
 * (iteration, phase, from) — a neighbour may run one step ahead, so messages can arrive before they are awaited.
 * Any failure (refused past the deadline, reset, a neighbour closing while we still wait on it, a stranger
 * connecting) rejects the waiting step with an Error naming the peer.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeHello, encodeMessageHeader, PatternsParser, type Phase } from './patterns-wire.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface LinkCounters {
  readonly sentTo: Set<number>;
  readonly receivedFrom: Set<number>;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
}

const CONNECT_RETRY_MS = 100;

export class PatternsLinks {
  readonly #rank: number;
  readonly #sockets = new Map<number, net.Socket>();
  readonly #closed = new Set<number>();
  readonly #mailbox = new Map<string, number>();
  readonly #waiters = new Map<string, { from: number; resolve: () => void; reject: (e: Error) => void }>();
  #server: net.Server | undefined;
  #failure: Error | undefined;
  #isFinished = false;
  readonly counters: LinkCounters = { sentTo: new Set(), receivedFrom: new Set(), messagesSent: 0, messagesReceived: 0, bytesSent: 0 };

  constructor(rank: number) {
    this.#rank = rank;
  }

  /** Listens on `self`, connects/accepts every neighbour; resolves when all are linked. */
  async open(self: PeerAddress, peers: readonly PeerAddress[], neighbours: readonly number[], deadlineMs: number): Promise<void> {
    const lower = new Set(neighbours.filter((r) => r < this.#rank));
    const accepted = new Promise<void>((resolve, reject) => {
      if (lower.size === 0) resolve();
      this.#server = net.createServer((socket) => {
        socket.setNoDelay(true);
        const parser = new PatternsParser(true);
        let from: number | undefined;
        socket.on('data', (chunk: Buffer) => {
          for (const event of parser.push(chunk)) {
            if (event.kind === 'error') return this.#fail(new Error(`bad stream from ${socket.remoteAddress}: ${event.reason}`));
            if (event.kind === 'hello') {
              if (!lower.has(event.rank) || this.#sockets.has(event.rank)) {
                socket.destroy();
                return this.#fail(new Error(`unexpected hello from rank ${event.rank}`));
              }
              from = event.rank;
              this.#adopt(from, socket);
              if ([...lower].every((r) => this.#sockets.has(r))) resolve();
            } else if (from !== undefined) this.#deliver(from, event.message.iteration, event.message.phase);
          }
        });
        socket.on('error', () => undefined); // 'close' follows and is handled by #adopt
      });
      this.#server.on('error', reject);
      this.#server.listen(self.port, self.host);
    });
    const connected = Promise.all(
      neighbours.filter((r) => r > this.#rank).map((r) => this.#connect(r, peers[r]!, deadlineMs)),
    );
    await Promise.race([Promise.all([accepted, connected]), this.#failed()]);
  }

  send(to: number, iteration: number, phase: Phase, payload: Buffer): void {
    const socket = this.#sockets.get(to);
    if (socket === undefined) throw new Error(`no link to rank ${to}`);
    socket.write(encodeMessageHeader(iteration, phase, payload.length));
    socket.write(payload);
    this.counters.sentTo.add(to);
    this.counters.messagesSent++;
    this.counters.bytesSent += payload.length;
  }

  /** Resolves once the message (iteration, phase) from `from` is in; consumes it. */
  receive(from: number, iteration: number, phase: Phase): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const key = `${iteration}:${phase}:${from}`;
    const queued = this.#mailbox.get(key) ?? 0;
    if (queued > 0) {
      if (queued === 1) this.#mailbox.delete(key);
      else this.#mailbox.set(key, queued - 1);
      return Promise.resolve();
    }
    if (this.#closed.has(from)) return Promise.reject(new Error(`rank ${from} closed the connection before iteration ${iteration}`));
    return new Promise((resolve, reject) => this.#waiters.set(key, { from, resolve, reject }));
  }

  /** Ends every link gracefully (pending writes are flushed) and stops listening. */
  async close(): Promise<void> {
    this.#isFinished = true;
    this.#server?.close();
    await Promise.all(
      [...this.#sockets.values()].map(
        (socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : (socket.once('close', () => resolve()), socket.end()))),
      ),
    );
  }

  /** Tears every link down at once; also stops connect retries still under way. */
  destroy(): void {
    this.#fail(new Error('links destroyed'));
    this.#isFinished = true;
    this.#server?.close();
    for (const socket of this.#sockets.values()) socket.destroy();
  }

  async #connect(rank: number, address: PeerAddress, deadlineMs: number): Promise<void> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(address.port, address.host);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        socket.setNoDelay(true);
        socket.write(encodeHello(this.#rank));
        const parser = new PatternsParser(false);
        socket.on('data', (chunk: Buffer) => {
          for (const event of parser.push(chunk)) {
            if (event.kind === 'message') this.#deliver(rank, event.message.iteration, event.message.phase);
            else return this.#fail(new Error(`bad stream from rank ${rank}: ${event.kind === 'error' ? event.reason : 'hello'}`));
          }
        });
        socket.on('error', () => undefined);
        this.#adopt(rank, socket);
        return;
      } catch (error) {
        if (performance.now() > deadlineMs) {
          throw new Error(`cannot connect to rank ${rank} at ${address.host}:${address.port}`, { cause: error });
        }
        await sleep(CONNECT_RETRY_MS);
      }
    }
  }

  #adopt(rank: number, socket: net.Socket): void {
    this.#sockets.set(rank, socket);
    socket.on('close', () => {
      this.#closed.add(rank);
      for (const [key, waiter] of this.#waiters) {
        if (waiter.from !== rank) continue;
        this.#waiters.delete(key);
        waiter.reject(new Error(`rank ${rank} closed the connection while awaited (${key})`));
      }
      if (!this.#isFinished && socket.errored) this.#fail(new Error(`link to rank ${rank} failed: ${socket.errored.message}`));
    });
  }

  #deliver(from: number, iteration: number, phase: Phase): void {
    this.counters.receivedFrom.add(from);
    this.counters.messagesReceived++;
    const key = `${iteration}:${phase}:${from}`;
    const waiter = this.#waiters.get(key);
    if (waiter) {
      this.#waiters.delete(key);
      waiter.resolve();
    } else this.#mailbox.set(key, (this.#mailbox.get(key) ?? 0) + 1);
  }

  #failureListeners: ((e: Error) => void)[] = [];

  #failed(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.#failure) reject(this.#failure);
      else this.#failureListeners.push(reject);
    });
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const listener of this.#failureListeners) listener(error);
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}
