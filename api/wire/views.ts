/**
 * The server's views ARE the API's shapes: each view the switch builds (in its own terms: switch/ cannot import
 * this layer) is checked here, at compile time, against the type generated from openapi.yaml. A field the spec
 * lacks, or one with another type, fails `tsc` — so nothing is written twice and left to drift.
 * (Plugins check theirs the same way beside their routes, with `satisfies`.)
 */
import type { LoggedEvent } from '../../switch/event-log.js';
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { HostSummary as HostView, StarView } from '../../switch/overlay/overlay.js';
import type { InterfaceView, MacView, PortView, RuleView } from '../../switch/overlay/primitives.js';
import type { MoveStats } from '../../switch/overlay/move-site.js';
import type { VmMoveConvergedEvent, VmMovedEvent } from '../../switch/events.js';
import type { DashboardSnapshot as DashboardView } from '../dashboard/snapshot.js';
import type { components } from '../generated/openapi.js';

type Schemas = components['schemas'];
/** Compiles only when every value of type A is a valid B. */
type Conforms<A extends B, B> = A;

export type ViewChecks = [
  Conforms<LinkStatus, Schemas['Link']>,
  Conforms<RuleView, Schemas['Rule']>,
  Conforms<InterfaceView, Schemas['Interface']>,
  Conforms<PortView, Schemas['Port']>,
  Conforms<HostView, Schemas['HostSummary']>,
  Conforms<StarView, Schemas['StarView']>,
  Conforms<LoggedEvent, Schemas['LoggedEvent']>,
  Conforms<DashboardView, Schemas['DashboardSnapshot']>,
  Conforms<MacView, Schemas['MacEntry']>,
  Conforms<MoveStats, Schemas['MoveStats']>,
  // The fields of the two move events, as the event log records them (eventFields: all but `type`).
  Conforms<Omit<VmMovedEvent, 'type'>, Schemas['VmMovedFields']>,
  Conforms<Omit<VmMoveConvergedEvent, 'type'>, Schemas['VmMoveConvergedFields']>,
];

// The check can fail: a view whose field has another type than the spec's does not compile.
// @ts-expect-error — name must be a string in the spec's Link
export type ViewCheckFails = Conforms<Omit<LinkStatus, 'name'> & { name: number }, Schemas['Link']>;
