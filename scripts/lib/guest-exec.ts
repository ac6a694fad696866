/**
 * Runs one shell command in a lab guest through its agent (scripts/lib/guest/init serves it on the guest's second
 * serial port, which QEMU exposes as a unix socket), prints the command's output and exits with its status.
 *
 *   node dist/scripts/lib/guest-exec.js --socket /run/vswitch-lab/h1v1.agent [--timeout-s 60] -- CMD ARGS...
 *
 * The words after `--` are shell-quoted and joined, so `-- ping -c 1 198.19.2.1` runs exactly that. One request at
 * a time per guest: the lab holds a lock around each call. Exit 124 on timeout (as timeout(1) does), 125 when the
 * agent cannot be reached.
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';

const argv = process.argv.slice(2);
const dashDash = argv.indexOf('--');
const options = dashDash < 0 ? argv : argv.slice(0, dashDash);
const words = dashDash < 0 ? [] : argv.slice(dashDash + 1);
const option = (name: string): string | undefined => {
  const i = options.indexOf(`--${name}`);
  return i < 0 ? undefined : options[i + 1];
};
const socketPath = option('socket');
const timeoutS = Number(option('timeout-s') ?? '60');
if (!socketPath || words.length === 0 || !(timeoutS > 0)) {
  process.stderr.write('usage: guest-exec --socket PATH [--timeout-s S] -- CMD ARGS...\n');
  process.exit(2);
}

/** POSIX shell quoting: every word single-quoted unless it is plainly safe. */
const quote = (word: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);
const id = randomBytes(6).toString('hex');
const command = words.map(quote).join(' ');

const socket = connect(socketPath);
let received = '';
const timer = setTimeout(() => {
  process.stderr.write(`guest-exec: no answer from ${socketPath} in ${timeoutS} s\n`);
  process.exit(124);
}, timeoutS * 1000);
socket.on('error', (err) => {
  process.stderr.write(`guest-exec: cannot reach the guest's agent at ${socketPath}: ${err.message}\n`);
  process.exit(125);
});
socket.on('connect', () => socket.write(`${id} ${Buffer.from(command).toString('base64')}\n`));
socket.on('data', (chunk) => {
  received += chunk.toString('latin1');
  const start = received.indexOf(`@@vs-out ${id}\n`);
  const end = received.indexOf(`@@vs-rc ${id} `);
  if (start < 0 || end < 0) return;
  const rcLine = received.slice(end).split('\n')[0];
  if (!received.slice(end).includes('\n')) return;
  const output = Buffer.from(received.slice(start + `@@vs-out ${id}\n`.length, end).replace(/\s+/g, ''), 'base64');
  clearTimeout(timer);
  process.stdout.write(output);
  socket.destroy();
  process.exitCode = Number(rcLine!.split(' ')[2] ?? '1');
});
