/**
 * Moving a VM in a memory overlay (test/support/memory-overlay.ts) the way the lab does it: its port goes from one
 * daemon (Datapath.detach: the daemon forgets what it learned there) and a port with the same MAC comes on another
 * (Datapath.attach), and the guest announces itself there with a gratuitous ARP (a broadcast, as QEMU's RARP is).
 */
import type { Daemon } from '../../daemon/daemon.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { arpRequest } from './frames.js';
import type { MemoryOverlay } from './memory-overlay.js';

export interface MovedVm {
  /** The VM's port on its new host. */
  readonly port: MemoryPort;
  /** The guest's gratuitous ARP: who-has its own address, from its own MAC. */
  announce(): void;
}

export function moveVm(o: MemoryOverlay, vm: { mac: string; ip: string; port: string }, from: Daemon, to: Daemon, newPort: string): MovedVm {
  if (!from.datapath.detach(vm.port)) throw new Error(`move: ${vm.port} is not on ${from.config.name}`);
  const port = new MemoryPort(newPort);
  to.datapath.attach(port, { floods: true });
  o.ports.set(newPort, port);
  return { port, announce: () => port.inject([arpRequest(vm.mac, vm.ip, vm.ip)]) };
}
