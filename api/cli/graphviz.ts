/** Graphviz `dot`, run as a child process: the CLI's DOT → SVG/PNG for `topology show` and `topology app`. */
import { spawn } from 'node:child_process';
import { VswitchError } from '../../switch/errors.js';

/** `dot` is not installed, or failed. */
export class GraphvizError extends VswitchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('graphviz', message, options);
  }
}

export function renderDot(dot: string, format: 'svg' | 'png'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('dot', [`-T${format}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => errors.push(c));
    child.on('error', (err) => reject(new GraphvizError('cannot run Graphviz `dot` (install the graphviz package), or use --format dot', { cause: err })));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new GraphvizError(`dot -T${format} failed: ${Buffer.concat(errors).toString().trim()}`))));
    child.stdin.end(dot);
  });
}
