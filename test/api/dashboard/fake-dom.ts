/**
 * A minimal DOM for running the dashboard's browser script (api/dashboard/client.ts)
 * under vitest without a browser or a DOM package: elements, text nodes,
 * attributes, class lists, data- attributes, events, and an `innerHTML` setter
 * backed by a small HTML tokenizer. The tokenizer is there so that a script
 * that builds markup from strings is judged by what a browser would make of
 * it: every `<tag` that reaches it becomes an element, as it would in a real
 * page (`<img src=x onerror=…>` included).
 *
 * Not a browser: no CSS selectors beyond `.class`, `#id` and `tag`, no layout.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';
export const HTML_NS = 'http://www.w3.org/1999/xhtml';

export abstract class FakeNode {
  parentNode: FakeElement | null = null;
  abstract get textContent(): string;
  remove(): void {
    this.parentNode?.removeChild(this);
  }
}

export class FakeText extends FakeNode {
  readonly nodeType = 3;
  constructor(public data: string) {
    super();
  }
  get textContent(): string {
    return this.data;
  }
}

type Listener = (ev: unknown) => void;

export class FakeElement extends FakeNode {
  readonly nodeType = 1;
  readonly attributes = new Map<string, string>();
  readonly childNodes: FakeNode[] = [];
  readonly listeners = new Map<string, Listener[]>();
  /** Every HTML string assigned through innerHTML (old-style rendering leaves a trace here). */
  readonly htmlAssigned: string[] = [];
  value = '';

  constructor(
    readonly ownerDocument: FakeDocument,
    readonly localName: string,
    readonly namespaceURI: string = HTML_NS,
  ) {
    super();
  }

  get tagName(): string {
    return this.namespaceURI === HTML_NS ? this.localName.toUpperCase() : this.localName;
  }

  // ---- attributes

  setAttribute(name: string, value: unknown): void {
    this.attributes.set(this.namespaceURI === HTML_NS ? name.toLowerCase() : name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  hasAttribute(name: string): boolean {
    return this.attributes.has(name);
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  get id(): string {
    return this.getAttribute('id') ?? '';
  }
  set id(v: string) {
    this.setAttribute('id', v);
  }
  get className(): string {
    return this.getAttribute('class') ?? '';
  }
  set className(v: string) {
    this.setAttribute('class', v);
  }
  get classList(): { add(...c: string[]): void; remove(...c: string[]): void; contains(c: string): boolean; toggle(c: string, on?: boolean): boolean } {
    const list = (): string[] => this.className.split(/\s+/).filter(Boolean);
    const set = (l: string[]): void => this.setAttribute('class', [...new Set(l)].join(' '));
    return {
      add: (...c) => set([...list(), ...c]),
      remove: (...c) => set(list().filter((x) => !c.includes(x))),
      contains: (c) => list().includes(c),
      toggle: (c, on) => {
        const want = on ?? !list().includes(c);
        set(want ? [...list(), c] : list().filter((x) => x !== c));
        return want;
      },
    };
  }
  get dataset(): Record<string, string | undefined> {
    const attr = (key: string): string => `data-${key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`;
    return new Proxy({} as Record<string, string | undefined>, {
      get: (_t, key) => (typeof key === 'string' ? (this.getAttribute(attr(key)) ?? undefined) : undefined),
      set: (_t, key, value) => {
        if (typeof key === 'string') this.setAttribute(attr(key), value);
        return true;
      },
    });
  }
  get style(): Record<string, string> {
    return {};
  }

  // ---- tree

  get children(): FakeElement[] {
    return this.childNodes.filter((n): n is FakeElement => n instanceof FakeElement);
  }
  get firstChild(): FakeNode | null {
    return this.childNodes[0] ?? null;
  }
  get lastElementChild(): FakeElement | null {
    return this.children.at(-1) ?? null;
  }
  get textContent(): string {
    return this.childNodes.map((n) => n.textContent).join('');
  }
  set textContent(v: unknown) {
    this.replaceChildren(...(v === null || v === undefined || v === '' ? [] : [String(v)]));
  }
  set innerHTML(html: string) {
    this.htmlAssigned.push(String(html));
    this.replaceChildren(...parseHtml(this.ownerDocument, String(html), this.namespaceURI));
  }

  private adopt(items: (FakeNode | string)[]): FakeNode[] {
    return items.map((item) => {
      const node = typeof item === 'string' ? new FakeText(item) : item;
      if (!(node instanceof FakeNode)) throw new TypeError(`not a node: ${String(node)}`);
      node.remove();
      node.parentNode = this;
      return node;
    });
  }
  appendChild<T extends FakeNode>(node: T): T {
    this.append(node);
    return node;
  }
  append(...items: (FakeNode | string)[]): void {
    this.childNodes.push(...this.adopt(items));
  }
  prepend(...items: (FakeNode | string)[]): void {
    this.childNodes.unshift(...this.adopt(items));
  }
  replaceChildren(...items: (FakeNode | string)[]): void {
    for (const n of this.childNodes) n.parentNode = null;
    this.childNodes.length = 0;
    this.append(...items);
  }
  removeChild(node: FakeNode): void {
    const i = this.childNodes.indexOf(node);
    if (i >= 0) this.childNodes.splice(i, 1);
    node.parentNode = null;
  }

  /** This element's descendants, depth first, in tree order. */
  *descendants(): Generator<FakeElement> {
    for (const n of this.children) {
      yield n;
      yield* n.descendants();
    }
  }
  querySelectorAll(selector: string): FakeElement[] {
    return [...this.descendants()].filter(matcher(selector));
  }
  querySelector(selector: string): FakeElement | null {
    return this.querySelectorAll(selector)[0] ?? null;
  }

  // ---- events

  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  /** Fires `type` at this element's own listeners; returns whether a listener called preventDefault(). */
  fire(type: string): boolean {
    let prevented = false;
    for (const fn of this.listeners.get(type) ?? []) fn({ type, target: this, preventDefault: () => (prevented = true) });
    return prevented;
  }
}

function matcher(selector: string): (e: FakeElement) => boolean {
  if (selector.startsWith('.')) return (e) => e.classList.contains(selector.slice(1));
  if (selector.startsWith('#')) return (e) => e.id === selector.slice(1);
  if (/^[a-zA-Z][\w-]*$/.test(selector)) return (e) => e.localName.toLowerCase() === selector.toLowerCase();
  throw new Error(`fake DOM: unsupported selector ${selector}`);
}

export class FakeDocument {
  readonly body: FakeElement;
  constructor() {
    this.body = new FakeElement(this, 'body');
  }
  createElement(tag: string): FakeElement {
    return new FakeElement(this, tag.toLowerCase());
  }
  createElementNS(ns: string, tag: string): FakeElement {
    return new FakeElement(this, tag, ns);
  }
  createTextNode(data: unknown): FakeText {
    return new FakeText(String(data));
  }
  getElementById(id: string): FakeElement | null {
    for (const e of this.body.descendants()) if (e.id === id) return e;
    return null;
  }
  querySelector(selector: string): FakeElement | null {
    return this.body.querySelector(selector);
  }
  querySelectorAll(selector: string): FakeElement[] {
    return this.body.querySelectorAll(selector);
  }
}

// ---- a small HTML tokenizer (enough to see what markup a string would make) ----------------------

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** Parses an HTML fragment into fake nodes, the way innerHTML would (tags, attributes, text, void and raw-text elements). */
export function parseHtml(doc: FakeDocument, html: string, contextNs: string = HTML_NS): FakeNode[] {
  const root = new FakeElement(doc, '#fragment', contextNs);
  let cur = root;
  const tag = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)|</g;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    const [whole, closing, name, rawAttrs, text] = m;
    if (whole.startsWith('<!--')) continue;
    if (text !== undefined) {
      cur.append(decodeEntities(text));
      continue;
    }
    if (name === undefined) {
      cur.append('<');
      continue;
    }
    const lower = name.toLowerCase();
    if (closing) {
      for (let up: FakeElement | null = cur; up && up !== root; up = up.parentNode) {
        if (up.localName.toLowerCase() === lower) {
          cur = up.parentNode ?? root;
          break;
        }
      }
      continue;
    }
    const ns = lower === 'svg' ? SVG_NS : cur.namespaceURI === SVG_NS ? SVG_NS : HTML_NS;
    const el = new FakeElement(doc, ns === HTML_NS ? lower : name, ns);
    const attr = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
    for (let a = attr.exec(rawAttrs ?? ''); a; a = attr.exec(rawAttrs ?? '')) {
      el.setAttribute(a[1]!, decodeEntities(a[2] ?? a[3] ?? a[4] ?? ''));
    }
    cur.append(el);
    if (RAW_TEXT.has(lower)) {
      const end = html.toLowerCase().indexOf(`</${lower}`, tag.lastIndex);
      const stop = end < 0 ? html.length : end;
      el.append(html.slice(tag.lastIndex, stop));
      const close = html.indexOf('>', stop);
      tag.lastIndex = close < 0 ? html.length : close + 1;
      continue;
    }
    if (!VOID.has(lower) && !(rawAttrs ?? '').trimEnd().endsWith('/')) cur = el;
  }
  const nodes = [...root.childNodes];
  for (const n of nodes) n.parentNode = null;
  return nodes;
}
