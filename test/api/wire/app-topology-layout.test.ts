/**
 * The one drawing of VTTIF's application topology (api/wire/app-topology-layout.ts) and its SVG text
 * (api/wire/app-topology-format.ts, `vswitch topology app --format svg`): deterministic, inside its view box,
 * widths from the intensities, data escaped; and the dashboard builds its DOM from the same scene.
 */
import { describe, expect, it, vi } from 'vitest';
import { appTopologyElements, sceneElement } from '../../../api/dashboard/client.js';
import { appTopologyToDot, appTopologyToSvg, sceneToSvg, type AppTopology } from '../../../api/wire/app-topology-format.js';
import { layoutAppTopology, MAX_WIDTH, MIN_WIDTH, penWidth, SCENE, type AppTopologyInput, type SceneNode } from '../../../api/wire/app-topology-layout.js';
import { FakeDocument, type FakeElement } from '../dashboard/fake-dom.js';

const palette = { edge: 'blue', node: 'black' };
const mac = (i: number): string => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;

function topology(edges: { a: string; b: string; intensity: number }[], shape: string | null = 'ring'): AppTopology {
  return { edges, shape, detectedAt: '2026-01-01T00:00:00.000Z', reason: 'settled', settings: { updateRateHz: 20, smoothingMs: 1000, threshold: 0.1 } } as unknown as AppTopology;
}

const ring = (n: number): AppTopology => topology(Array.from({ length: n }, (_, i) => ({ a: mac(i), b: mac((i + 1) % n), intensity: i === 0 ? 1 : (i % 4) / 4 })));

/** Every element of a scene, depth first. */
function elements(node: SceneNode): SceneNode[] {
  return [node, ...node.children.flatMap((c) => (typeof c === 'string' ? [] : elements(c)))];
}

const byClass = (scene: SceneNode, cls: string): SceneNode[] => elements(scene).filter((e) => e.attrs.class === cls);

describe('layoutAppTopology', () => {
  it('is deterministic: the same scene for the same topology, VMs in MAC order whatever the order of the edges', () => {
    const t = ring(5);
    expect(layoutAppTopology(t, { palette })).toEqual(layoutAppTopology(structuredClone(t), { palette }));
    const reversed = topology([...t.edges].reverse());
    const spots = (s: SceneNode) => byClass(s, 'app-vm').map((c) => [c.attrs.cx, c.attrs.cy]);
    expect(spots(layoutAppTopology(reversed, { palette }))).toEqual(spots(layoutAppTopology(t, { palette })));
    expect(byClass(layoutAppTopology(t, { palette }), 'app-label').map((l) => l.children[0])).toEqual([0, 1, 2, 3, 4].map(mac));
  });

  it('stays inside its view box for 1 to 40 VMs; widths grow with intensity from 1 to 8, clamped; numbers finite and rounded', () => {
    for (let n = 1; n <= 40; n++) {
      const t = n === 1 ? topology([{ a: mac(0), b: mac(0), intensity: 0.5 }]) : ring(n);
      const scene = layoutAppTopology(t, { palette });
      expect(scene.attrs).toMatchObject({ viewBox: `0 0 ${SCENE.width} ${SCENE.height}`, width: SCENE.width, height: SCENE.height });
      for (const e of elements(scene)) {
        for (const [name, v] of Object.entries(e.attrs)) {
          if (typeof v !== 'number') continue;
          expect(Number.isFinite(v), `${e.tag} ${name}`).toBe(true);
          expect(Math.round(v * 100) / 100).toBe(v);
          if (/^(x|cx|x1|x2)$/.test(name)) expect(v).toBeGreaterThanOrEqual(0);
          if (/^(x|cx|x1|x2)$/.test(name)) expect(v).toBeLessThanOrEqual(SCENE.width);
          if (/^(y|cy|y1|y2)$/.test(name)) expect(v).toBeGreaterThanOrEqual(0);
          if (/^(y|cy|y1|y2)$/.test(name)) expect(v).toBeLessThanOrEqual(SCENE.height);
        }
      }
      expect(byClass(scene, 'app-vm')).toHaveLength(n);
      expect(byClass(scene, 'app-edge')).toHaveLength(t.edges.length);
    }
    const one = byClass(layoutAppTopology(topology([{ a: mac(0), b: mac(0), intensity: 1 }]), { palette }), 'app-vm')[0]!;
    expect([one.attrs.cx, one.attrs.cy]).toEqual([SCENE.centreX, SCENE.centreY]); // a single VM sits in the middle
    expect([penWidth(0), penWidth(0.5), penWidth(1), penWidth(7), penWidth(-1), penWidth(Number.NaN)]).toEqual([MIN_WIDTH, 4.5, MAX_WIDTH, MAX_WIDTH, MIN_WIDTH, MIN_WIDTH]);
    const widths = byClass(layoutAppTopology(ring(4), { palette }), 'app-edge').map((l) => l.attrs['stroke-width']);
    expect(widths).toEqual([8, 2.8, 4.5, 6.3]);
  });

  it('reads what a daemon sent defensively: not an array, odd types, hostile strings are drawn as text or 0', () => {
    expect(elements(layoutAppTopology({ edges: 'nope', shape: 3 }, { palette })).map((e) => e.tag)).toEqual(['svg', 'text']);
    expect(elements(layoutAppTopology(null as unknown as AppTopologyInput, { palette })).map((e) => e.tag)).toEqual(['svg', 'text']); // JSON "null"
    expect(elements(layoutAppTopology({ edges: [null, 7] }, { palette })).filter((e) => e.tag === 'line')).toHaveLength(2);
    const scene = layoutAppTopology({ edges: [{ a: 1, b: null, intensity: '0.5' }] }, { palette });
    expect(byClass(scene, 'app-label').map((t) => t.children)).toEqual([[''], ['1']]);
    expect(byClass(scene, 'app-edge')[0]!.attrs).toMatchObject({ 'data-intensity': 0, 'stroke-width': MIN_WIDTH });
    expect(byClass(scene, 'app-title')[0]!.children).toEqual(['application topology — 1 edge (width ∝ intensity)']);
  });

  it('labels come from the caller (the dashboard names the VMs it knows); the palette leaves unset colours to CSS', () => {
    const scene = layoutAppTopology(ring(3), { palette, label: (m) => (m === mac(1) ? 'h1/tap0' : m) });
    expect(byClass(scene, 'app-label').map((t) => t.children[0])).toEqual([mac(0), 'h1/tap0', mac(2)]);
    expect(elements(scene).find((e) => e.tag === 'title')!.children).toEqual([`${mac(0)} — h1/tap0: 1.00`]);
    expect(elements(scene).some((e) => e.tag === 'rect')).toBe(false); // no background unless asked
    expect(byClass(scene, 'app-label')[0]!.attrs.fill).toBeUndefined();
  });
});

describe('the SVG text (vswitch topology app --format svg)', () => {
  it('is the scene serialised: a standalone document, one line per edge, a dot and label per VM, a title', () => {
    const svg = appTopologyToSvg(ring(4));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="560" height="340" viewBox="0 0 560 340"')).toBe(true);
    expect(svg.endsWith('</svg>\n')).toBe(true);
    expect(svg.match(/<line /g)).toHaveLength(4);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg).toContain('<rect width="560" height="340" fill="white"/>');
    expect(svg).toContain('>ring — 4 edges (width ∝ intensity)</text>');
    expect(svg).toContain(`<title>${mac(0)} — ${mac(1)}: 1.00</title>`);
    expect(svg).toMatch(/<line class="app-edge" data-intensity="1" x1="280" y1="80" x2="[\d.]+" y2="[\d.]+" stroke="#2060c0" stroke-opacity="0.85" stroke-linecap="round" stroke-width="8">/);
    // DOT and SVG take their widths from the one penWidth.
    expect(appTopologyToDot(ring(4))).toContain('penwidth=8,');
  });

  it('escapes every text and attribute value: a VM named <script> stays text', () => {
    const evil = `<script>alert("x")</script>&'`;
    const svg = appTopologyToSvg(topology([{ a: evil, b: mac(1), intensity: 0.5 }], `</text><svg onload=alert(1)>`));
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<svg onload');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&apos;');
    expect(svg).toContain('&lt;/text&gt;&lt;svg onload=alert(1)&gt; — 1 edge');
    expect(svg.match(/<[a-z]+/g)!.filter((t) => !['<svg', '<rect', '<text', '<line', '<title', '<circle'].includes(t))).toEqual([]);
    expect(sceneToSvg({ tag: 'text', attrs: { 'aria-label': '"><b>', x: Number.NaN }, children: ['<i>'] }, false)).toBe('<text aria-label="&quot;&gt;&lt;b&gt;" x="0">&lt;i&gt;</text>');
  });
});

describe('the dashboard draws the same scene', () => {
  it('appTopologyElements is sceneElement(layoutAppTopology(…)) in the page colours: the same elements, attributes and text as the SVG text', () => {
    const doc = new FakeDocument();
    vi.stubGlobal('document', doc);
    try {
      const t = ring(4);
      const [drawn] = appTopologyElements(t, new Map()) as unknown as FakeElement[];
      const scene = layoutAppTopology(t, { palette: { edge: 'var(--fast)', node: 'var(--vm)' } });
      const built = sceneElement(scene) as unknown as FakeElement;
      const shape = (e: FakeElement): unknown => [e.localName, [...e.attributes.entries()], e.children.map(shape), e.children.length === 0 ? e.textContent : ''];
      expect(shape(drawn!)).toEqual(shape(built));
      // …and the CLI's text of that scene has the same elements in the same order, with the same attributes.
      const fromText = [...sceneToSvg(scene).matchAll(/<([a-z]+)((?: [^>]*?)?)\/?>/g)].map((m) => [m[1], m[2]!.replace(/^ xmlns="[^"]*"/, '').trim()]);
      const fromDom = [built, ...built.descendants()].map((e) => [e.localName, [...e.attributes.entries()].map(([k, v]) => `${k}="${v}"`).join(' ')]);
      expect(fromDom).toEqual(fromText);
      expect(fromDom.filter(([tag]) => tag === 'line')).toHaveLength(4);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
