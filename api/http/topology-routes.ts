/**
 * The overlay description tools on the Proxy's API (Virtuoso §2.1, "a
 * language and its tools"): show the current topology (text, JSON or DOT),
 * diff and apply a description, trace the route of a frame between two MACs,
 * (the application topology, VTTIF's, is served by plugins/vttif/routes.ts). All of it
 * reads and changes the overlay through the Proxy's primitives, its own and
 * the relayed ones of each host (switch/topology/fetch.ts).
 *
 * A syntax or meaning error is a 400 whose `errors` list has one
 * "file:line:column: …" entry per problem under /body/text (each topology
 * error says so itself: switch/topology/errors.ts; mapped in api/http/errors.ts).
 */
import type { Context, Hono } from 'hono';
import { withoutPositions } from '../../switch/topology/ast.js';
import { describeChange } from '../../switch/topology/diff.js';
import { toDot } from '../../switch/topology/dot.js';
import { formatProblem } from '../../switch/topology/errors.js';
import { fetchTopology, type TopologySource } from '../../switch/topology/fetch.js';
import { formatTopology } from '../../switch/topology/format.js';
import { applyTopology, planTopology, type TopologyPlan } from '../../switch/topology/reconcile.js';
import { traceRoute } from '../../switch/topology/route.js';
import { toOverlay } from '../../switch/topology/state.js';
import type { ApiDeps } from './deps.js';
import { NotProxyError, type ApiEnv } from './primitive-routes.js';
import { isPolicyActor } from '../../switch/overlay/local-primitives.js';
import type { Actor } from '../../switch/overlay/primitives.js';

export function registerTopologyRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  const sourceOf = (): TopologySource => {
    const { host, hosts } = deps;
    if (!host || !hosts) throw new NotProxyError();
    return {
      proxyName: deps.status().name,
      ...(deps.publicKey ? { proxyPublicKey: deps.publicKey } : {}),
      local: deps.local,
      host: (name) => host.call(deps, name),
      hostNames: () => hosts.call(deps).map((h) => h.name),
    };
  };

  app.get('/v1/topology', async (c) => {
    const state = await fetchTopology(sourceOf());
    const overlay = toOverlay(state);
    const format = c.req.query('format') ?? 'text';
    if (format === 'dot') return c.body(toDot(overlay), 200, { 'content-type': 'text/vnd.graphviz; charset=utf-8' });
    if (format === 'json') {
      return c.json({ overlay: withoutPositions(overlay), hosts: state.hosts.map((h) => ({ name: h.name, reachable: h.reachable, ...(h.error ? { error: h.error } : {}) })) });
    }
    const silent = state.hosts.filter((h) => !h.reachable).map((h) => `# ${h.name} did not answer (${h.error?.code ?? 'error'}): its links and rules are missing here\n`);
    return c.text(silent.join('') + formatTopology(overlay));
  });

  app.post('/v1/topology/diff', async (c) => c.json(planBody(await planTopology(sourceOf(), ...textOf(c), policyOf(c)))));
  app.post('/v1/topology/apply', async (c) => c.json(planBody(await applyTopology(sourceOf(), ...textOf(c), policyOf(c)))));

  app.get('/v1/topology/route', async (c) => {
    const query = { src: c.req.query('src') ?? '', dst: c.req.query('dst') ?? '', ...(c.req.query('from') ? { from: c.req.query('from')! } : {}) };
    return c.json(traceRoute(await fetchTopology(sourceOf(), { forwarding: true }), query));
  });

  // GET /v1/topology/app is VTTIF's: plugins/vttif/routes.ts.
}

/** A policy's token makes the apply the policy's (it owns only what it added); anyone else applies as "topology". */
function policyOf(c: Context<ApiEnv>): Actor | undefined {
  const actor = c.get('actor');
  return isPolicyActor(actor.name) ? actor : undefined;
}

function textOf(c: Context<ApiEnv>): [string, string] {
  const body = c.get('request').body as { text: string; file?: string };
  return [body.text, body.file ?? 'topology'];
}

function planBody(plan: TopologyPlan) {
  return {
    changes: plan.changes.map((change) => ({ ...change, text: describeChange(change) })),
    conflicts: plan.conflicts,
    pending: plan.pending,
    warnings: plan.warnings.map(formatProblem),
  };
}
