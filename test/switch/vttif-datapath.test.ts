/**
 * The data path's VTTIF hook: with a counter installed, frames from local ports and frames from links delivered to
 * local ports are counted (src, dst, bytes); link-to-link transit and dropped frames are not; no counter, no calls.
 */
import { describe, expect, it } from 'vitest';
import { Datapath } from '../../switch/datapath.js';
import { formatMac, type Mac } from '../../switch/frame/mac.js';
import { createLogger } from '../../switch/log.js';
import { SwitchCore } from '../../switch/pipeline/forward.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { ethernetFrame } from '../support/frames.js';

/** A MemoryPort that says it is a link. */
function memoryLink(name: string): MemoryPort {
  const port = new MemoryPort(name);
  Object.defineProperty(port, 'kind', { value: 'link' });
  return port;
}

function setup() {
  const core = new SwitchCore({});
  const datapath = new Datapath({ core, clock: { now: () => 0 }, log: createLogger({ write: () => {} }) });
  const vm = new MemoryPort('tap0');
  const link1 = memoryLink('l1');
  const link2 = memoryLink('l2');
  for (const p of [vm, link1, link2]) datapath.attach(p, { floods: true });
  const counted: string[] = [];
  datapath.counter = { count: (src: Mac, dst: Mac, bytes: number) => counted.push(`${formatMac(src)}>${formatMac(dst)}:${bytes}`) };
  return { datapath, vm, link1, link2, counted };
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const X = '02:00:00:00:00:01';
const Y = '02:00:00:00:00:02';

describe('Datapath VTTIF counting', () => {
  it('counts what a local VM sends and what a link delivers to it, not link-to-link transit', () => {
    const { vm, link1, link2, counted } = setup();
    vm.inject([ethernetFrame({ src: A, dst: B, payloadBytes: 100 })]); // unknown B: flooded to the links
    link1.inject([ethernetFrame({ src: B, dst: A, payloadBytes: 200 })]); // A learned on tap0: delivered locally
    link2.inject([ethernetFrame({ src: Y, dst: X, payloadBytes: 300 })]); // flooded: tap0 among the targets → counted
    link1.inject([ethernetFrame({ src: X, dst: Y, payloadBytes: 400 })]); // Y learned on l2: transit only
    expect(counted).toEqual([`${A}>${B}:114`, `${B}>${A}:214`, `${Y}>${X}:314`]);
  });

  it('skips dropped frames and counts nothing without a counter', () => {
    const { datapath, vm, counted } = setup();
    vm.inject([new Uint8Array(8)]);
    expect(counted).toEqual([]);
    datapath.counter = undefined;
    vm.inject([ethernetFrame({ src: A, dst: B })]);
    expect(counted).toEqual([]);
  });
});
