/**
 * Views carved from shared 256 kB slabs, for per-packet byte arrays (sealed messages, opened plaintexts): a fresh
 * 1.4 kB Uint8Array per packet is an off-heap allocation that V8 also counts as external memory (more major GCs);
 * a view costs a tenth of it. A slab is never reused: it is dropped when full and freed by the GC once no view of
 * it is left, so a view that is kept (a TCP backlog) stays valid, and every view is fresh zeroed memory.
 */
const SLAB_BYTES = 256 * 1024;
const SLAB_ALIGN = 8;

/** An allocator with its own slabs; arrays under `minBytes` or over a quarter slab get their own memory. */
export function createSlabAllocator(minBytes = 0): (length: number) => Uint8Array {
  let slab = new ArrayBuffer(SLAB_BYTES);
  let offset = 0;
  return (length) => {
    if (length < minBytes || length > SLAB_BYTES / 4) return new Uint8Array(length);
    if (offset + length > SLAB_BYTES) {
      slab = new ArrayBuffer(SLAB_BYTES);
      offset = 0;
    }
    const view = new Uint8Array(slab, offset, length);
    offset += (length + SLAB_ALIGN - 1) & ~(SLAB_ALIGN - 1);
    return view;
  };
}
