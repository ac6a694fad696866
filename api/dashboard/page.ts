/**
 * GET /: the dashboard page, one self-contained HTML document (inline CSS,
 * inline module script, no external URL), rendered once at start-up. The page
 * holds no data: everything comes from /v1/events (and /v1/vttif/*) after it
 * loads, with the token from its URL fragment. Made for a wall screen: light
 * text on a dark ground, large labels, a fixed grid that fills 1080p.
 *
 * Security: what the page shows comes from hosts, outside the trust boundary.
 * The script builds its DOM from data without HTML parsing (client.ts), and
 * the page runs under a strict Content-Security-Policy: nothing but its own
 * inline script and style (allowed by their sha256 hashes, computed here from
 * the exact text inlined), fetch to its own origin, no plugins, frames, base
 * URL or form targets, and Trusted Types with no policy, so an HTML sink such
 * as innerHTML throws in browsers that enforce them. The policy is sent as a
 * header (dashboardHeaders, with frame-ancestors, which a <meta> cannot carry)
 * and also as a <meta> in the page, so the page is protected wherever it is
 * served from.
 */
import { createHash } from 'node:crypto';

const CSS = `
:root{--bg:#0d1117;--panel:#161b22;--line:#30363d;--text:#e6edf3;--dim:#8b949e;--star:#58a6ff;--fast:#f0883e;
--up:#3fb950;--down:#f85149;--vm:#39c5bb;--proxy:#bc8cff;--warn:#d29922}
*{box-sizing:border-box}html,body{margin:0;background:var(--bg);color:var(--text);font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
header{display:flex;align-items:center;gap:1.2rem;padding:.6rem 1.2rem;border-bottom:1px solid var(--line);background:var(--panel)}
header h1{font-size:1.25rem;margin:0;font-weight:600;letter-spacing:.02em}header .dim{color:var(--dim)}
#live{display:inline-flex;align-items:center;gap:.4rem;font-weight:600}#live::before{content:"";width:.7rem;height:.7rem;border-radius:50%;background:var(--dim)}
#live[data-state=live]::before{background:var(--up);box-shadow:0 0 8px var(--up)}#live[data-state=down]::before{background:var(--down)}
#banner{color:var(--warn);font-weight:600}#banner:empty{display:none}
main{display:grid;grid-template-columns:minmax(0,1.75fr) minmax(0,1fr);grid-template-rows:minmax(0,1.65fr) minmax(0,1fr);grid-template-areas:"overlay side" "rules side";gap:.8rem;padding:.8rem;height:calc(100vh - 3.2rem);min-height:44rem}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;min-height:0;overflow:auto}
section h2{margin:0 0 .4rem;font-size:.85rem;text-transform:uppercase;letter-spacing:.08em;color:var(--dim);font-weight:600}
#overlay-panel{grid-area:overlay;display:flex;flex-direction:column}#rules-panel{grid-area:rules}#side{grid-area:side;display:flex;flex-direction:column;gap:.8rem;min-height:0}#side section{flex:0 0 auto}
#overlay{flex:1 1 auto;min-height:0;height:100%}#app-topology svg{max-height:32vh}#log-panel{flex:1 1 auto!important}
svg{display:block;width:100%;height:auto}svg text{fill:var(--text);font-family:system-ui,sans-serif}svg text.sub{fill:#9da7b3}
.legend{display:flex;gap:1.2rem;color:var(--dim);font-size:.85rem;flex-wrap:wrap}.legend i{display:inline-block;width:1.8rem;height:0;border-top:3px solid var(--star);vertical-align:middle;margin-right:.3rem}
.legend i.fast{border-top:3px dashed var(--fast)}.legend i.down{border-top:3px dotted var(--down)}
#tables{display:grid;grid-template-columns:repeat(auto-fill,minmax(31rem,1fr));gap:.6rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.4rem .5rem}.card h3{margin:0 0 .3rem;font-size:1rem}.card h3 .dim{font-weight:400;color:var(--dim);font-size:.85rem}
table{border-collapse:collapse;width:100%;font:13px/1.35 ui-monospace,"DejaVu Sans Mono",monospace}th{color:var(--dim);font-weight:500;text-align:left}
td,th{padding:.1rem .35rem;border-bottom:1px solid #21262d;white-space:nowrap}td.n{text-align:right}tr.hit td{background:#1f3a2a;transition:background .8s}
#log{list-style:none;margin:0;padding:0;font:13px/1.45 ui-monospace,"DejaVu Sans Mono",monospace}#log li{padding:.1rem 0;border-bottom:1px solid #21262d}
#log .t{color:var(--dim)}#log .ev{font-weight:600;color:var(--star)}#log .warn .ev{color:var(--warn)}#plugins .warn{color:var(--warn)}#log .f{color:var(--dim)}
.empty{color:var(--dim);font-style:italic}
#token-form{display:none;gap:.4rem}#token-form.shown{display:flex}#token-form input{background:var(--bg);color:var(--text);border:1px solid var(--line);padding:.2rem .4rem}
`;

const BODY = `
<header>
  <h1>vswitch <span class="dim">dashboard</span></h1>
  <span id="who" class="dim">connecting…</span>
  <span id="live" data-state="connecting">connecting</span>
  <span class="dim">updated <span id="updated">—</span> · snapshots <span id="snapshot-count">0</span></span>
  <span id="banner"></span>
  <form id="token-form"><input id="token-input" type="password" placeholder="API token" autocomplete="off"><button>use</button></form>
</header>
<main>
  <section id="overlay-panel">
    <h2>Overlay: hosts, VMs, links</h2>
    <svg id="overlay" viewBox="0 0 1000 640" role="img" aria-label="overlay topology"></svg>
    <div class="legend"><span><i></i>star link (to the Proxy)</span><span><i class="fast"></i>fast-path link (host to host)</span><span><i class="down"></i>link down / connecting</span><span>label: transport · throughput</span></div>
  </section>
  <div id="side">
    <section id="app-panel"><h2>Application topology (VTTIF)</h2><div id="app-topology"><p class="empty">VTTIF: no data yet</p></div></section>
    <section id="plugins-panel"><h2>Plugins</h2><div id="plugins"><p class="empty">no plugins</p></div></section>
    <section id="log-panel"><h2>Events</h2><ul id="log"><li class="empty">no events yet</li></ul></section>
  </div>
  <section id="rules-panel"><h2>Rule tables (hit counters)</h2><div id="tables"></div></section>
</main>
`;

/** One policy directive per entry; the header carries them all, the <meta> all but frame-ancestors. */
function cspDirectives(scriptHash: string, styleHash: string): string[] {
  return [
    "default-src 'none'",
    `script-src '${scriptHash}'`,
    `style-src '${styleHash}'`,
    "connect-src 'self'",
    'img-src data:', // the favicon is a data: URL (else the browser asks for /favicon.ico)
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ];
}

/** Directives a <meta> policy may not carry (the browser ignores them there, with a console error). */
const HEADER_ONLY = /^(frame-ancestors|report-uri|sandbox)\b/;

export interface DashboardPage {
  /** The HTML document. */
  html: string;
  /** The headers to send it with: CSP, nosniff, no referrer, no framing, no caching. */
  headers: Record<string, string>;
  /** The Content-Security-Policy header's value. */
  csp: string;
}

/** The page and its headers, from the page's script (compiled client.ts, or the "not built" stand-in). */
export function buildDashboardPage(clientJs: string): DashboardPage {
  const script = `\n${inlineScript(clientJs)}\n`;
  const directives = cspDirectives(sha256Source(script), sha256Source(CSS));
  const csp = directives.join('; ');
  const metaCsp = directives.filter((d) => !HEADER_ONLY.test(d)).join('; ');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${metaCsp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>vswitch dashboard</title>
<style>${CSS}</style></head><body>${BODY}
<script type="module">${script}</script>
</body></html>
`;
  return { html, csp, headers: dashboardHeaders(csp) };
}

/** The page alone (see buildDashboardPage for its headers). */
export function renderDashboardPage(clientJs: string): string {
  return buildDashboardPage(clientJs).html;
}

/** The response headers of GET / for a page whose policy is `csp` (DashboardPage.csp). */
export function dashboardHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
  };
}

/**
 * A CSP hash source for an inline element's text: sha256 of its UTF-8 bytes,
 * as the browser hashes it. The text must be what the browser's parser sees:
 * inlineScript() has already turned every CR LF / CR into LF.
 */
function sha256Source(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

/**
 * A script inside HTML must not contain "</script". Line ends are made LF:
 * the HTML parser does that before the browser hashes the script, so the
 * hash must be taken over the same text.
 */
function inlineScript(js: string): string {
  return js.replace(/\r\n?/g, '\n').replace(/<\/(script)/gi, '<\\/$1');
}
