/**
 * Proxy high availability, the daemon's side (issue 19 part 3; the logic is switch/ha/):
 * - on a Proxy with `ha:`, the election on etcd: active → it announces its epoch to every host; standby → silent;
 * - on a host with several Proxies, following another one: the default rule and the flood port move to its link,
 *   and what was learned behind the old one is forgotten (it would black-hole frames toward a dead Proxy). The
 *   fast paths are other links and other rules: they stay.
 */
import type { Datapath } from '../switch/datapath.js';
import type { HaConfig } from '../switch/config/config.js';
import type { TimerClock } from '../switch/clock.js';
import type { Logger } from '../switch/log.js';
import type { Overlay } from '../switch/overlay/overlay.js';
import { EtcdGateway } from '../switch/ha/etcd-gateway.js';
import type { Etcd } from '../switch/ha/etcd.js';
import { ProxyElection } from '../switch/ha/proxy-election.js';
import type { ProxyRole } from '../switch/ha/proxy-role.js';

/** The etcd client of a Proxy with `ha:`: its members over the JSON gateway, each request within min(1 s, TTL/4). */
export function etcdOf(ha: HaConfig): Etcd {
  return new EtcdGateway({ endpoints: ha.etcd, timeoutMs: Math.min(1000, Math.floor(ha.leaseTtlMs / 4)) });
}

/**
 * The election; on winning the hosts are told at once, then `activate` runs (the desired state is taken from etcd)
 * and only then do the plugins act — unless the Proxy lost again meanwhile. A failed `activate` is logged and the
 * plugins act on what this Proxy has.
 */
export function startProxyElection(opts: { ha: HaConfig; name: string; overlay: Overlay; role: ProxyRole; clock: TimerClock; log: Logger; etcd: Etcd; activate(): Promise<void> }): ProxyElection {
  const { ha, overlay } = opts;
  const election: ProxyElection = new ProxyElection({
    etcd: opts.etcd,
    key: ha.key,
    name: opts.name,
    leaseTtlMs: ha.leaseTtlMs,
    clock: opts.clock,
    log: opts.log,
    onActive: (epoch) => {
      overlay.setActiveEpoch(epoch);
      void opts
        .activate()
        .catch((err: unknown) => opts.log.warn('ha: the desired state could not be taken from etcd; the plugins act on this proxy\'s own', { err }))
        .then(() => {
          if (election.status().epoch === epoch) opts.role.set(true); // its plugins act from now on
        });
    },
    onStandby: () => {
      overlay.setActiveEpoch(undefined);
      opts.role.set(false);
    },
  });
  election.start();
  return election;
}

/** A host follows another Proxy: the star's default rule and flooding move to its link, at once. */
export function moveStarTo(datapath: Datapath, active: string, previous: string): void {
  const core = datapath.core;
  core.rules.removeOwnedBy('star');
  core.rules.insert({ src: 'any', dst: 'none', target: active, owner: 'star' });
  const to = core.portId(active);
  const from = core.portId(previous);
  if (to !== undefined) core.setFloods(to, true);
  if (from !== undefined) {
    core.setFloods(from, false);
    core.macTable.forgetPort(from);
  }
}
