/**
 * What cuts a super-frame into wire frames for a port that takes no virtio-net headers (a link, a memory twin):
 * the addon's gso.h (switch/port/addon.ts createNativeSegmenter), injected by the composition root. The frames
 * it hands out are views into its own scratch memory: valid until release(), which the datapath calls once the
 * batch they were made for has been sent.
 */
export interface FrameSegmenter {
  /**
   * The wire frames of `frame` as the normalized virtio-net header at vnet[at] says (switch/frame/vnet-header.ts):
   * a super-frame cut, or one frame with its checksum completed. Empty when the header is refused. The array is
   * reused by the next call.
   */
  segment(vnet: Uint8Array, at: number, frame: Uint8Array): readonly Uint8Array[];
  /** Every frame handed out since the last release may now be overwritten. */
  release(): void;
}
