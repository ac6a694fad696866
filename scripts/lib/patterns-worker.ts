/**
 * One rank of `patterns`, the paper's §4 synthetic BSP benchmark: a real TCP program, unaware of vswitch.
 *
 *   node dist/scripts/lib/patterns-worker.js --rank R --peers host[:port],host[:port],... --pattern P
 *        [--port 7700] [--size BYTES] [--iterations N] [--compute-ms C] [--compute busy|sleep]
 *        [--connect-timeout-s 30] [--timeout-s 0] [--report]
 *
 * `--peers` lists every rank's address in rank order (its length is the number of ranks); an entry without a port
 * uses `--port`. Each iteration: compute C ms (busy-wait by default, as a BSP code would; `sleep` yields the CPU),
 * then the pattern's communication step (patterns-topology.ts): a neighbour exchange, or a reduce then broadcast
 * for tree and star. A rank starts iteration i+1 only after it has every message of iteration i it waits for, so
 * the ranks stay in lock step without a separate barrier.
 *
 * Before iteration 1, n − 1 unmeasured empty rounds with the neighbours act as a start barrier (see runWorker).
 * Output: with --report, one JSON line {rank, pattern, ranks, neighbours, sentTo, receivedFrom, ...}. Rank 0 then
 * prints, as its last line, its running time in seconds (from the start of iteration 1, once every rank is up,
 * to the end of the last iteration). The report's counters cover the measured iterations and the barrier alike. Exit 1 with "patterns-worker rank R: <why>" on stderr on any failure.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PatternsLinks, type PeerAddress } from './patterns-links.js';
import { isPattern, neighboursOf, PATTERNS, treeOf, type Pattern } from './patterns-topology.js';
import { Phase } from './patterns-wire.js';

export interface WorkerOptions {
  readonly rank: number;
  readonly peers: readonly PeerAddress[];
  readonly pattern: Pattern;
  readonly sizeBytes: number;
  readonly iterations: number;
  readonly computeMs: number;
  readonly compute: 'busy' | 'sleep';
  readonly connectTimeoutMs: number;
}

export interface WorkerReport {
  rank: number;
  pattern: Pattern;
  ranks: number;
  neighbours: number[];
  sentTo: number[];
  receivedFrom: number[];
  iterations: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  seconds: number;
}

class UsageError extends Error {}

const EMPTY = Buffer.alloc(0);

function parseOptions(argv: string[]): WorkerOptions & { isReport: boolean; timeoutS: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      rank: { type: 'string' },
      peers: { type: 'string' },
      pattern: { type: 'string' },
      port: { type: 'string', default: '7700' },
      size: { type: 'string', default: '65536' },
      iterations: { type: 'string', default: '100' },
      'compute-ms': { type: 'string', default: '0' },
      compute: { type: 'string', default: 'busy' },
      'connect-timeout-s': { type: 'string', default: '30' },
      'timeout-s': { type: 'string', default: '0' },
      report: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (text === undefined || !Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
    return value;
  };
  const nonNegative = (name: string, text: string | undefined): number => {
    const value = Number(text);
    if (text === undefined || text === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`--${name} must be a number >= 0`);
    return value;
  };
  const port = int('port', values.port, 1);
  if (!values.peers) throw new UsageError('--peers is required');
  const peers = values.peers.split(',').map((entry): PeerAddress => {
    const match = /^(.+?)(?::(\d+))?$/.exec(entry.trim());
    if (!match) throw new UsageError(`bad peer ${entry}`);
    return { host: match[1]!, port: match[2] === undefined ? port : Number(match[2]) };
  });
  const rank = int('rank', values.rank, 0);
  if (rank >= peers.length) throw new UsageError(`--rank ${rank} is not in --peers (${peers.length} ranks)`);
  if (!values.pattern || !isPattern(values.pattern)) throw new UsageError(`--pattern must be one of ${PATTERNS.join(', ')}`);
  if (values.compute !== 'busy' && values.compute !== 'sleep') throw new UsageError('--compute must be busy or sleep');
  return {
    rank,
    peers,
    pattern: values.pattern,
    sizeBytes: int('size', values.size, 0),
    iterations: int('iterations', values.iterations, 1),
    computeMs: nonNegative('compute-ms', values['compute-ms']),
    compute: values.compute,
    connectTimeoutMs: int('connect-timeout-s', values['connect-timeout-s'], 1) * 1000,
    timeoutS: int('timeout-s', values['timeout-s'], 0),
    isReport: values.report ?? false,
  };
}

async function compute(ms: number, how: 'busy' | 'sleep'): Promise<void> {
  if (ms <= 0) return;
  if (how === 'sleep') {
    await sleep(ms);
    return;
  }
  const endMs = performance.now() + ms;
  while (performance.now() < endMs) {
    // Busy-wait: the CPU stays with this rank, like a BSP compute phase.
  }
}

/** Runs one rank to completion; rejects on any link failure. */
export async function runWorker(options: WorkerOptions): Promise<WorkerReport> {
  const { rank, peers, pattern, iterations } = options;
  const n = peers.length;
  const neighbours = neighboursOf(pattern, rank, n);
  const tree = treeOf(pattern, rank, n);
  const payload = Buffer.alloc(options.sizeBytes);
  const links = new PatternsLinks(rank);
  try {
    await links.open(peers[rank]!, peers, neighbours, performance.now() + options.connectTimeoutMs);
    // Start barrier: n − 1 empty exchange rounds with the neighbours. After round k a rank has (transitively)
    // heard from every rank within k hops, so after n − 1 ≥ diameter rounds every rank is up and linked, and
    // rank 0's clock does not count the others' start-up.
    for (let round = 1; round < n; round++) {
      for (const other of neighbours) links.send(other, round, Phase.Sync, EMPTY);
      await Promise.all(neighbours.map((other) => links.receive(other, round, Phase.Sync)));
    }
    const startMs = performance.now();
    for (let iteration = 1; iteration <= iterations; iteration++) {
      await compute(options.computeMs, options.compute);
      if (tree === undefined) {
        for (const other of neighbours) links.send(other, iteration, Phase.Exchange, payload);
        await Promise.all(neighbours.map((other) => links.receive(other, iteration, Phase.Exchange)));
      } else {
        await Promise.all(tree.children.map((child) => links.receive(child, iteration, Phase.Reduce)));
        if (tree.parent !== undefined) {
          links.send(tree.parent, iteration, Phase.Reduce, payload);
          await links.receive(tree.parent, iteration, Phase.Broadcast);
        }
        for (const child of tree.children) links.send(child, iteration, Phase.Broadcast, payload);
      }
    }
    const seconds = (performance.now() - startMs) / 1000;
    await links.close();
    const { sentTo, receivedFrom, messagesSent, messagesReceived, bytesSent } = links.counters;
    const sorted = (set: Set<number>): number[] => [...set].sort((x, y) => x - y);
    return {
      rank,
      pattern,
      ranks: n,
      neighbours,
      sentTo: sorted(sentTo),
      receivedFrom: sorted(receivedFrom),
      iterations,
      messagesSent,
      messagesReceived,
      bytesSent,
      seconds,
    };
  } catch (error) {
    links.destroy();
    throw error;
  }
}

async function main(): Promise<void> {
  let rank = '?';
  try {
    const options = parseOptions(process.argv.slice(2));
    rank = String(options.rank);
    if (options.timeoutS > 0) {
      setTimeout(() => {
        process.stderr.write(`patterns-worker rank ${rank}: timed out after ${options.timeoutS} s\n`);
        process.exit(1);
      }, options.timeoutS * 1000).unref();
    }
    const report = await runWorker(options);
    if (options.isReport) process.stdout.write(`${JSON.stringify(report)}\n`);
    if (options.rank === 0) process.stdout.write(`${report.seconds.toFixed(3)}\n`);
  } catch (error) {
    const why = error instanceof Error ? error.message + (error.cause instanceof Error ? ` (${error.cause.message})` : '') : String(error);
    process.stderr.write(`patterns-worker rank ${rank}: ${why}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
