/**
 * A small QMP (QEMU Machine Protocol) client for the lab's guests.
 *
 *   node dist/scripts/lib/qmp.js --socket SOCK --command '{"execute":"query-status"}'
 *     prints the command's "return" as JSON.
 *   node dist/scripts/lib/qmp.js --migrate tcp:HOST:PORT --socket SRC --destination DST [--vm V --from A --to B]
 *     live-migrates the guest behind SRC to the QEMU behind DST (started with -incoming) and prints one JSON line:
 *     {vm, from, to, totalMs, downtimeMs, setupMs, resumedAtMs} — QEMU's own figures (query-migrate), and the wall
 *     clock (epoch ms) of the destination's RESUME event: the instant the guest runs at its new host.
 * Exit 1 with QEMU's error on failure; everything is bounded by --timeout-s (default 120).
 */
import { connect, type Socket } from 'node:net';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const timeoutS = Number(option('timeout-s') ?? '120');
setTimeout(() => fail(`no result in ${timeoutS} s`), timeoutS * 1000).unref();

type QmpMessage = { return?: unknown; error?: { class: string; desc: string }; event?: string; timestamp?: { seconds: number; microseconds: number }; QMP?: unknown };

function fail(message: string): never {
  process.stderr.write(`qmp: ${message}\n`);
  process.exit(1);
}

class Qmp {
  private buffered = '';
  private readonly waiting: ((m: QmpMessage) => void)[] = [];
  readonly events: QmpMessage[] = [];
  private onEvent: ((m: QmpMessage) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl).trim();
        this.buffered = this.buffered.slice(nl + 1);
        if (line !== '') this.dispatch(JSON.parse(line) as QmpMessage);
      }
    });
  }

  static async open(path: string): Promise<Qmp> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', (err) => reject(new Error(`cannot reach QMP at ${path}: ${err.message}`))));
    const qmp = new Qmp(socket);
    await qmp.next(); // the greeting
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    const answer = await this.next();
    if (answer.error) throw new Error(`${command}: ${answer.error.desc}`);
    return answer.return;
  }

  waitEvent(name: string): Promise<QmpMessage> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      this.onEvent = (m) => {
        if (m.event === name) resolve(m);
      };
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private next(): Promise<QmpMessage> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private dispatch(message: QmpMessage): void {
    if (message.event !== undefined) {
      this.events.push(message);
      this.onEvent?.(message);
      return;
    }
    this.waiting.shift()?.(message);
  }
}

interface MigrationInfo {
  status: string;
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  'error-desc'?: string;
}

async function migrate(uri: string, sourcePath: string, destinationPath: string): Promise<void> {
  const source = await Qmp.open(sourcePath);
  const destination = await Qmp.open(destinationPath);
  const resumed = destination.waitEvent('RESUME');
  // The destination announces the guest (RARP, or the guest's own gratuitous ARP) right after it resumes, not after
  // QEMU's default 50 ms: until then the overlay still sends the guest's traffic to its old host.
  await destination.execute('migrate-set-parameters', { 'announce-initial': 1 }).catch((err: Error) => process.stderr.write(`qmp: announce-initial not set: ${err.message}\n`));
  await source.execute('migrate', { uri });
  let info: MigrationInfo;
  for (;;) {
    info = (await source.execute('query-migrate')) as MigrationInfo;
    if (info.status === 'completed') break;
    if (info.status === 'failed' || info.status === 'cancelled') fail(`migration ${info.status}: ${info['error-desc'] ?? 'no reason given'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const resume = await resumed;
  const resumedAtMs = resume.timestamp ? Math.round(resume.timestamp.seconds * 1000 + resume.timestamp.microseconds / 1000) : Date.now();
  process.stdout.write(
    `${JSON.stringify({
      vm: option('vm') ?? null,
      from: option('from') ?? null,
      to: option('to') ?? null,
      totalMs: info['total-time'] ?? null,
      downtimeMs: info.downtime ?? null,
      setupMs: info['setup-time'] ?? null,
      resumedAtMs,
    })}\n`,
  );
  source.close();
  destination.close();
}

const socketPath = option('socket') ?? fail('--socket is required');
const migrateUri = option('migrate');
if (migrateUri !== undefined) {
  await migrate(migrateUri, socketPath, option('destination') ?? fail('--migrate needs --destination'));
} else {
  const text = option('command') ?? fail('--command or --migrate is required');
  const command = JSON.parse(text) as { execute: string; arguments?: Record<string, unknown> };
  const qmp = await Qmp.open(socketPath);
  process.stdout.write(`${JSON.stringify(await qmp.execute(command.execute, command.arguments))}\n`);
  qmp.close();
}
process.exit(0);
