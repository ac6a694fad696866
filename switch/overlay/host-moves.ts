/**
 * HostMoves: a host's part in following VM moves (the Proxy's is proxy-moves.ts).
 *
 *   - `mac-moved {id, mac, host}` from its Proxy (the overlay checks the sender: the star link only): if this host is
 *     not `host` and has `mac` learned behind a fast link or on one of its own ports, it forgets the entry, then
 *     answers `mac-moved-ack {id}`. Forgotten, not re-pointed at the star: a host with a Proxy sends what it has not
 *     learned up its default rule to the Proxy, which knows where the VM is now — the same as an entry on the star
 *     link, without making up a sighting that never happened (a made-up entry would age on its own clock and claim
 *     the VM was heard there). An entry behind the star link is already right and stays; static entries stay.
 *   - an arrival: a MAC learned on one of this host's own ports, new or coming from behind a link, is told to the
 *     Proxy (`mac-arrived`) at once. The guest's own announcement (RARP, gratuitous ARP) reaches the Proxy over the
 *     star too; the claim is the second chance when that frame is lost or the guest sent none, and confirms a move
 *     the Proxy saw only on unicast frames. Bounded like the Proxy's announcements (per this host, per MAC): a VM
 *     spraying source MACs makes at most that many claims, the rest are counted.
 */
import type { Clock } from '../clock.js';
import { formatMac, parseMac, type Mac } from '../frame/mac.js';
import { NEW_MAC } from '../pipeline/forward.js';
import type { MacMovedMessage, MoveMessage } from './control-messages.js';
import { MoveLimiter, MOVE_BOUNDS, type MoveBounds } from './move-limiter.js';
import { zeroMoveStats, type MoveSite, type MoveStats } from './move-site.js';

export interface HostMovesOptions {
  /** This host's name (as the Proxy names it in announcements). */
  readonly name: string;
  readonly site: MoveSite;
  /** The star link's name. */
  readonly proxyPeer: string;
  sendToProxy(message: MoveMessage): boolean;
  readonly clock: Clock;
  /** Bounds on arrivals told (default: the Proxy's move bounds, MOVE_BOUNDS). */
  readonly bounds?: MoveBounds;
}

export class HostMoves {
  readonly #options: HostMovesOptions;
  readonly #limiter: MoveLimiter;
  readonly #stats = zeroMoveStats();

  constructor(options: HostMovesOptions) {
    this.#options = options;
    this.#limiter = new MoveLimiter(options.bounds ?? MOVE_BOUNDS);
    options.site.core.onLearned = (mac, port, fromPort, _toGroup, nowMs) => this.#learned(mac, port, fromPort, nowMs);
  }

  /** The Proxy's announcement (the overlay has checked it came over the star link). */
  moved(message: MacMovedMessage): void {
    const { site, clock, name, proxyPeer } = this.#options;
    this.#stats.applied++;
    if (message.host !== name) {
      const table = site.core.macTable;
      const mac = parseMac(message.mac)!;
      const port = table.lookup(mac, clock.now());
      if (port !== undefined && site.core.portName(port) !== proxyPeer && table.forget(mac)) this.#stats.forgotten++;
    }
    this.#options.sendToProxy({ t: 'mac-moved-ack', id: message.id });
  }

  stats(): MoveStats {
    return { ...this.#stats };
  }

  stop(): void {
    this.#options.site.core.onLearned = undefined;
  }

  #learned(mac: Mac, port: number, fromPort: number, nowMs: number): void {
    const { site } = this.#options;
    if (site.isLinkPort(port)) return; // a remote VM, learned behind a link
    if (fromPort !== NEW_MAC && !site.isLinkPort(fromPort)) return; // from one of our ports to another: it stayed here
    if (this.#limiter.take(this.#options.name, mac, nowMs) !== undefined) {
      this.#stats.arrivalsSuppressed++;
      return;
    }
    // After the frame's batch: sending is edge work.
    queueMicrotask(() => {
      if (this.#options.sendToProxy({ t: 'mac-arrived', mac: formatMac(mac) })) this.#stats.arrivalsSent++;
      else this.#stats.arrivalsSuppressed++;
    });
  }
}
