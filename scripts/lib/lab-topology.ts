/**
 * Writes an overlay description for a running lab: its hosts with the keys
 * the lab generated, the star, and on top a fast-path shape among the hosts
 * with the rules that send each VM pair over it.
 *
 *   node dist/scripts/lib/lab-topology.js --lab-dir DIR --shape star|all-to-all|bus|ring
 *
 * star: the Proxy and its links only (what the lab starts with).
 * all-to-all: a link between every two hosts; on each host, one rule per
 *   (local VM, remote VM) pair via the remote host.
 * bus / ring: links between neighbours only (h1–h2–…–hN, ring closes it);
 *   with no hierarchical routing (the paper's point) every host on the way
 *   needs a rule for every pair whose path crosses it, so these take more rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Shape = 'star' | 'all-to-all' | 'bus' | 'ring';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const hex = (n: number) => n.toString(16).padStart(2, '0');
const vmMac = (h: number, v: number) => `02:00:c6:13:${hex(h)}:${hex(v)}`;

/** The hosts a frame from host a to host b crosses, a and b included, on the chosen fast-path shape. */
function path(shape: Shape, a: number, b: number, hosts: number): number[] {
  if (shape === 'all-to-all') return [a, b];
  const step = (from: number, dir: number) => ((from - 1 + dir + hosts) % hosts) + 1;
  let dir = b > a ? 1 : -1;
  if (shape === 'ring') {
    const forward = (b - a + hosts) % hosts;
    dir = forward <= hosts - forward ? 1 : -1;
  }
  const hops = [a];
  for (let h = a; h !== b; ) hops.push((h = step(h, dir)));
  return hops;
}

function main(): void {
  const labDir = arg('lab-dir');
  const shape = arg('shape') as Shape;
  if (!['star', 'all-to-all', 'bus', 'ring'].includes(shape)) throw new Error(`unknown shape ${shape}`);
  const read = (f: string) => readFileSync(join(labDir, f), 'utf8').trim();
  const hosts = Number(read('hosts'));
  const vms = Number(read('vms'));
  const out: string[] = [`# lab overlay, ${hosts} hosts × ${vms} VMs, fast-path shape: ${shape}`];
  out.push(`host proxy key "${read('proxy.pub')}" endpoint 198.18.1.1:51820 proxy`);
  for (let h = 1; h <= hosts; h++) out.push(`host h${h} key "${read(`h${h}.pub`)}" endpoint 198.18.0.${h}:51820`);
  for (let h = 1; h <= hosts; h++) out.push(`link h${h} proxy`);
  if (shape !== 'star') {
    const links = new Set<string>();
    for (let a = 1; a <= hosts; a++) {
      for (let b = 1; b <= hosts; b++) {
        if (a === b) continue;
        const hops = path(shape, a, b, hosts);
        for (let i = 0; i + 1 < hops.length; i++) {
          const [x, y] = [hops[i]!, hops[i + 1]!].sort((p, q) => p - q);
          links.add(`link h${x} h${y} transport auto`);
        }
      }
    }
    out.push(...[...links].sort());
    for (let a = 1; a <= hosts; a++) {
      for (let b = 1; b <= hosts; b++) {
        if (a === b) continue;
        const hops = path(shape, a, b, hosts);
        for (let va = 1; va <= vms; va++) {
          for (let vb = 1; vb <= vms; vb++) {
            for (let i = 0; i + 1 < hops.length; i++) {
              out.push(`rule h${hops[i]} src ${vmMac(a, va)} dst ${vmMac(b, vb)} via h${hops[i + 1]}`);
            }
          }
        }
      }
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

main();
