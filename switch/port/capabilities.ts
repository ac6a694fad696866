/**
 * The Linux capabilities vswitch needs, and whether this process has them. The daemon runs unprivileged with only
 * CAP_NET_ADMIN (create TAP devices, set their MTU, bring them up) and CAP_NET_RAW (a capture port's packet socket);
 * binding a port below net.ipv4.ip_unprivileged_port_start would need CAP_NET_BIND_SERVICE as well. When the kernel
 * answers EPERM, the error says which capability the operation needs and whether this process lacks it — read
 * from the CapEff line of /proc/self/status, once, at the moment of the failure.
 */
import { readFileSync } from 'node:fs';

/** Bit numbers from linux/capability.h. */
export const CAPABILITY_BITS = {
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
} as const;

export type CapabilityName = keyof typeof CAPABILITY_BITS;

/** The capabilities of CAPABILITY_BITS in the effective set of a /proc/PID/status text; undefined without a CapEff line. */
export function effectiveCapabilities(statusText: string): ReadonlySet<CapabilityName> | undefined {
  const line = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (!line) return undefined;
  const mask = BigInt(`0x${line[1]}`);
  const names = Object.entries(CAPABILITY_BITS)
    .filter(([, bit]) => (mask >> BigInt(bit)) & 1n)
    .map(([name]) => name as CapabilityName);
  return new Set(names);
}

/** This process's effective capabilities; undefined when /proc cannot tell (then messages say only what is needed). */
export function processCapabilities(): ReadonlySet<CapabilityName> | undefined {
  try {
    return effectiveCapabilities(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * "needs CAP_NET_ADMIN" followed by what this process has: lacking it is the cause; having it means something else
 * refused (a security module, or a user namespace that does not own the network namespace).
 */
export function needsCapability(capability: CapabilityName, has: ReadonlySet<CapabilityName> | undefined): string {
  if (has === undefined) return `needs ${capability}`;
  if (!has.has(capability)) return `needs ${capability}, which this process lacks`;
  return `needs ${capability}; this process has it, so something else refused (a security module, or a user namespace that does not own the network namespace)`;
}
