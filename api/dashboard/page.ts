/**
 * GET /: the dashboard page, one self-contained HTML document (inline CSS,
 * inline module script, no external URL), rendered once at start-up. The page
 * holds no data: everything comes from /v1/events (and /v1/vttif/*) after it
 * loads, with the token from its URL fragment. Made for a wall screen: light
 * text on a dark ground, large labels, a fixed grid that fills 1080p.
 */
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
svg{display:block;width:100%;height:auto}svg text{fill:var(--text);font-family:system-ui,sans-serif}
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

export function renderDashboardPage(clientJs: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>vswitch dashboard</title>
<style>${CSS}</style></head><body>${BODY}
<script type="module">
${inlineScript(clientJs)}
</script>
</body></html>
`;
}

/** A script inside HTML must not contain "</script". */
function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}
