/**
 * What the hostile host of the dashboard's XSS test says (scripts/lib/hostile-host.ts --markup). It answers the
 * Proxy's relayed requests and sends reports and traffic matrices in which every free string field carries markup
 * and script: VM port names, link names, endpoints and owners, rule targets and owners, the names in its MAC table,
 * and the error messages of its answers (which the Proxy turns into plugin events). Each string is as long as the
 * Proxy's shape checks allow (switch/overlay/control-schemas.ts SHAPE_LIMITS), so all of it gets through; and
 * REFUSED_MESSAGES are what the checks must refuse (markup where a MAC, an enum, a drop reason or a message type
 * goes, names over their caps), each with the fixed reason the Proxy counts it under.
 *
 * Pure: the link and the timers live in hostile-host.ts. The e2e test (test/e2e/dashboard-hostile.test.ts)
 * imports PLACED to look for the strings on the page.
 */
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { InterfaceView, MacView, RuleView } from '../../switch/overlay/primitives.js';

/** If any of these ever runs, it sets window.__pwned (to its own number) and opens a dialog. */
export const MARKUP = {
  img: '<img src=x onerror="window.__pwned=1;alert(1)">',
  script: '<script>window.__pwned=2;alert(2)</script>',
  svg: '"><svg onload="window.__pwned=3;alert(3)">',
  attribute: "' onmouseover='window.__pwned=4' x='",
  javascriptUrl: 'javascript:window.__pwned=5;alert(5)',
  style: '</style><style>body{display:none}</style>',
  svgText: '</text><svg onload=window.__pwned=6><text>',
  iframe: '<iframe srcdoc="<script>parent.__pwned=7</script>">',
  /** Right-to-left and isolate overrides around markup: shown as the characters they are, nothing more. */
  bidi: '\u202Eexe.ppa\u202C <b onclick=window.__pwned=8>bidi</b> \u2066x\u2069',
  /** Already escaped: must show as "&lt;", not be decoded into a tag. */
  entity: '&lt;img src=x onerror=window.__pwned=9&gt;',
  comment: '<!--<img src=x onerror=window.__pwned=10>-->',
} as const;

/** Markup repeated to exactly `chars` characters (a field filled to its cap). */
export function longMarkup(chars: number): string {
  const unit = '<img src=x onerror="window.__pwned=11;alert(11)">';
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

/** The policy the test registers and removes: the Proxy then asks this host to delete the rule it "owns". */
export const BAIT_POLICY = 'xss-bait';

/** Where each string goes (what the test looks for, and where). */
export const PLACED = {
  /** Interface names (kind tap): the VMs' labels in the overlay drawing, and with their MACs the VTTIF labels. */
  vmPorts: [MARKUP.img, MARKUP.svg, MARKUP.bidi, longMarkup(64)],
  /** Names of links to keys the Proxy does not know: drawn as nodes of their own. */
  linkNames: [MARKUP.script, MARKUP.javascriptUrl, MARKUP.svgText, MARKUP.iframe],
  linkOwners: [MARKUP.style, longMarkup(128)],
  linkEndpoints: [longMarkup(80)],
  ruleTargets: [MARKUP.entity, MARKUP.attribute, MARKUP.comment, longMarkup(64)],
  ruleOwners: [MARKUP.style, longMarkup(128), MARKUP.bidi],
  /** An interface's last error (the CLI and the API show it; the dashboard does not). */
  lastError: longMarkup(1024),
  /** Every error this host answers with (a delete asked by a plugin cleanup becomes the Proxy's event). */
  errorMessage: `${MARKUP.img} ${MARKUP.script} ${longMarkup(1024)}`.slice(0, 1024),
} as const;

/** One MAC per VM port (what the host's MAC table says is behind each). */
export const VM_MACS = PLACED.vmPorts.map((_, i) => `02:66:00:00:00:${(0xa0 + i).toString(16)}`);

const counters = { rxFrames: 10, rxBytes: 1000, txFrames: 10, txBytes: 1000, drops: {} };

export function markupInterfaces(): InterfaceView[] {
  return PLACED.vmPorts.map((name, i) => ({
    name,
    kind: 'tap',
    state: i === PLACED.vmPorts.length - 1 ? 'down' : 'up',
    ...(i === PLACED.vmPorts.length - 1 ? { lastError: PLACED.lastError } : {}),
    ...counters,
  }));
}

/** The real star link (so the star stays drawn as it is) and links with markup to keys nobody knows. */
export function markupLinks(star: LinkStatus | undefined): (LinkStatus & { owner?: string })[] {
  const fake = PLACED.linkNames.map((name, i) => ({
    name,
    publicKey: Buffer.alloc(32, 0x60 + i).toString('base64'),
    state: i % 2 === 0 ? ('up' as const) : ('connecting' as const),
    mode: 'auto' as const,
    transport: 'udp' as const,
    endpoint: PLACED.linkEndpoints[0]!,
    lastHandshakeAt: longMarkup(40),
    rxBytes: 100,
    txBytes: 100,
    rxPackets: 1,
    txPackets: 1,
    transportSwitches: 0,
    drops: {},
    owner: PLACED.linkOwners[i % PLACED.linkOwners.length]!,
  }));
  return [...(star ? [star] : []), ...fake];
}

export function markupRules(): RuleView[] {
  const rules = PLACED.ruleTargets.map((target, i) => ({
    id: i + 1,
    src: VM_MACS[i % VM_MACS.length]!,
    dst: i === 0 ? 'any' : VM_MACS[(i + 1) % VM_MACS.length]!,
    target,
    priority: 100 + i,
    owner: PLACED.ruleOwners[i % PLACED.ruleOwners.length]!,
    hitFrames: 7 * i,
    hitBytes: 700 * i,
  }));
  // The bait: a rule the test's policy "owns" here, so removing the policy asks this host to delete it.
  rules.push({ id: 99, src: 'any', dst: VM_MACS[0]!, target: PLACED.ruleTargets[0], priority: 5, owner: `proxy:policy:${BAIT_POLICY}`, hitFrames: 0, hitBytes: 0 });
  return rules;
}

export function markupMacs(): MacView[] {
  return VM_MACS.map((mac, i) => ({ mac, port: PLACED.vmPorts[i]!, static: false, ageS: 1 }));
}

export type Answer = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; status: number } };

/**
 * The answer to the `attempt`-th request (1, 2, …) for `op`. The first answer to each listing is malformed (markup
 * where a MAC or an enum goes, a name over its cap): the Proxy must refuse it (`res-result-invalid`); the rest get
 * through. Every change the Proxy asks for fails with markup as its message.
 */
export function markupAnswer(op: string, attempt: number, star: LinkStatus | undefined): Answer {
  const refusedFirst = attempt === 1;
  switch (op) {
    case 'interfaces':
      return { ok: true, result: refusedFirst ? [{ ...markupInterfaces()[0], name: longMarkup(65) }] : markupInterfaces() };
    case 'links':
      return { ok: true, result: refusedFirst ? [{ ...markupLinks(undefined)[0], state: MARKUP.img }] : markupLinks(star) };
    case 'rules':
      return { ok: true, result: refusedFirst ? [{ ...markupRules()[0], src: MARKUP.img }] : markupRules() };
    case 'macs':
      return { ok: true, result: refusedFirst ? [{ ...markupMacs()[0], mac: `02:00:${MARKUP.img}` }] : markupMacs() };
    case 'configTimeBound':
      return { ok: true, result: { upperBoundMs: 0 } };
    default:
      return { ok: false, error: { code: 'conflict', message: PLACED.errorMessage, status: 409 } };
  }
}

/** A report the Proxy accepts: the same interfaces, links and rules as the answers. */
export function markupReport(name: string, star: LinkStatus | undefined): Record<string, unknown> {
  return { t: 'report', name, interfaces: markupInterfaces(), links: markupLinks(star), rules: markupRules() };
}

/** Traffic between the first two VM ports' MACs, so the VTTIF panel labels them (by their ports' names). */
export function markupMatrix(name: string, atMs: number): Record<string, unknown> {
  const [a, b] = VM_MACS as [string, string];
  return {
    t: 'matrix',
    update: { host: name, atMs, entries: [{ src: a, dst: b, frames: 50, bytes: 60_000 }, { src: b, dst: a, frames: 50, bytes: 60_000 }] },
  };
}

/** Messages the Proxy must refuse, each with the fixed reason it is counted under. */
export function refusedMessages(name: string): { reason: string; message: unknown }[] {
  const report = markupReport(name, undefined);
  return [
    { reason: 'report-invalid', message: { ...report, interfaces: [{ ...markupInterfaces()[0], name: longMarkup(65) }] } },
    { reason: 'report-invalid', message: { ...report, interfaces: [{ ...markupInterfaces()[0], drops: { [MARKUP.img]: 1 } }] } },
    { reason: 'report-invalid', message: { ...report, rules: [{ ...markupRules()[0], dst: MARKUP.svg }] } },
    { reason: 'hb-invalid', message: { t: 'hb', name: longMarkup(65), role: 'host' } },
    { reason: 'hb-invalid', message: { t: 'hb', name, role: MARKUP.img } },
    { reason: 'req-invalid', message: { t: 'req', id: '1', op: MARKUP.script, args: [], actor: MARKUP.img } },
    { reason: 'res-invalid', message: { t: 'res', id: '1', ok: false, error: { code: MARKUP.img, message: MARKUP.script } } },
    { reason: 'unknown-type', message: { t: MARKUP.img } },
    { reason: 'matrix-invalid', message: { t: 'matrix', update: { host: MARKUP.img, atMs: 1, entries: [{ src: MARKUP.svg, dst: VM_MACS[0], frames: 1, bytes: 1 }] } } },
  ];
}
