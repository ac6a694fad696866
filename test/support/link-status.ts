import type { LinkStatus } from '../../switch/link/link-manager.js';

/** A link's status as a daemon reports it: zero counters, a UDP star link unless `overrides` say otherwise. */
export function linkStatus(overrides: Partial<LinkStatus> & Pick<LinkStatus, 'name'>): LinkStatus {
  return {
    publicKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    state: 'up',
    mode: 'auto',
    transport: overrides.endpoint?.startsWith('tcp:') ? 'tcp' : 'udp',
    rxBytes: 0,
    txBytes: 0,
    rxPackets: 0,
    txPackets: 0,
    transportSwitches: 0,
    drops: {},
    ...overrides,
  };
}
