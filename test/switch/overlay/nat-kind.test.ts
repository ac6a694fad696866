/**
 * What the Proxy concludes about reaching a host from its star link: a configured endpoint is open; without one,
 * the observed UDP port against the reported listen port tells a port-preserving NAT from a port-changing one.
 */
import { describe, expect, it } from 'vitest';
import { needsPunch, reachabilityOf } from '../../../switch/overlay/nat-kind.js';

describe('reachabilityOf', () => {
  it('a host with an endpoint in the config is open, wherever it is heard', () => {
    expect(reachabilityOf({ configuredEndpoint: 'udp:198.18.0.1:51820', observedEndpoint: 'udp:198.18.0.1:40000', listenUdpPort: 51820 })).toEqual({
      nat: 'open',
      observedEndpoint: 'udp:198.18.0.1:40000',
    });
  });

  it('no endpoint, heard at its own port: port-preserving; at another: port-changing', () => {
    expect(reachabilityOf({ observedEndpoint: 'udp:198.18.0.2:51820', listenUdpPort: 51820 }).nat).toBe('port-preserving');
    expect(reachabilityOf({ observedEndpoint: 'udp:198.18.0.4:27860', listenUdpPort: 51820 }).nat).toBe('port-changing');
    expect(reachabilityOf({ observedEndpoint: 'udp:[fd00::4]:27860', listenUdpPort: 27860 }).nat).toBe('port-preserving');
  });

  it('unknown when heard over TCP only, not heard at all, or with no listen port reported', () => {
    expect(reachabilityOf({ observedEndpoint: 'tcp:198.18.0.2:40112#3', listenUdpPort: 51820 })).toEqual({ nat: 'unknown', observedEndpoint: 'tcp:198.18.0.2:40112#3' });
    expect(reachabilityOf({ listenUdpPort: 51820 })).toEqual({ nat: 'unknown' });
    expect(reachabilityOf({ observedEndpoint: 'udp:198.18.0.2:51820' }).nat).toBe('unknown');
  });

  it('a pair needs a punch unless both ends are open', () => {
    expect(needsPunch('open', 'open')).toBe(false);
    expect(needsPunch('open', 'port-preserving')).toBe(true);
    expect(needsPunch('port-changing', 'open')).toBe(true);
    expect(needsPunch('unknown', 'unknown')).toBe(true);
  });
});
