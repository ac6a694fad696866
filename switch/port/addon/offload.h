// Flow offload: Open vSwitch's split between a native exact-match flow cache
// and the TypeScript core, which stays the one authority on what a frame does.
//
// A NativeOffload (addon.createOffload()) owns one switch's worth of it — there
// is no process-wide table: two switches in one process, or two Node
// environments (worker threads), each make their own, and nothing one does is
// seen by another. What one holds (all on the JS thread, inside the uv_poll
// callbacks of the IoHandles and UdpHandles attached to it: no threads, no locks):
//
//   Keypair slots. A WireGuard transport keypair's state — send and receive
//     keys, the send counter, the 8192-bit replay window (the exact ring of
//     switch/link/noise/replay.ts), its deadlines — has ONE owner, a slot
//     here, so JS (slotSeal/slotOpen/slotReplay) and the fast paths below can
//     both seal and open on it without disagreeing on a counter. Deadlines
//     come from JS as "ms from now" and are kept on uv_hrtime. Slot ids are
//     this offload's: the same number names nothing (or another slot) in another.
//   Links. Per link port (its id in the switch core): the UDP handle, the
//     peer's current endpoint, the slot to send on, and which slots may be
//     opened on the fast path (current and previous; never an unconfirmed
//     `next`, whose first packet JS must see to promote it).
//   Flows. (in-port, src MAC, dst MAC) → out-port, installed by JS after the
//     core decided 'output' for a valid unicast frame; flushed wholesale by JS
//     on any change that could alter a decision.
//   Its own ChaCha20-Poly1305 contexts (aead.h) and seal/open scratch memory.
//
// Fast paths:
//   TAP/capture read (IoHandle): a frame that validates as inspectFrame does
//     and hits a flow is written to the out TAP, or sealed as a type-4 message
//     with the link's send slot and queued for one sendmmsg per link at the
//     end of the read batch. Anything else (miss, broadcast, odd frame, slot
//     past Rekey-After-Time or Reject-After-Time) goes to JS unchanged.
//   UDP read (UdpHandle): a type-4 message whose receiver index names an
//     eligible slot is opened into scratch memory and its counter checked
//     WITHOUT committing; only if it carries an Ethernet payload (0x01), came
//     from the link's current endpoint and its frame hits a flow is the window
//     committed and the frame forwarded. Otherwise JS gets the original bytes
//     and opens them again on the same slot.
// Super-frames (gso.h): a flow's super-frame from a TAP with offloads goes as it is to a TAP with offloads, is cut
//   by the out TAP's write for one without, and is cut and sealed segment by segment toward a link (all of it, or
//   JS gets it whole). Wire frames toward a TAP with offloads (from a link, or a plain TAP) are copied aside and
//   written at the end of the read batch, glued back into super-frames where they can be (IoHandle::
//   WriteCoalesced). Flow counters count wire frames and their bytes.
// Read-back: every slot counts fast-path packets/bytes and the last rx/tx
//   times, every flow its packets/bytes; poll() hands JS the deltas so
//   timers, counters, MAC aging and VTTIF see everything.
//
// Lifetime (who points at whom):
//   A handle is attached to at most one offload: IoHandle.setOffloadPort(offload, portId),
//   UdpHandle.setOffload(offload); null (or a port id < 0) detaches it. An attached handle holds a strong
//   reference to its offload's JS object, so the GC never frees an offload a handle still points at; the
//   offload keeps plain pointers to its attached handles, never a reference, so it keeps none of them alive.
//   Either side going first detaches the pair:
//   - a handle closed (close()) or collected first leaves its offload: the flows and links through it go (a
//     flush), its port id is released if it still had it;
//   - an offload closed first (close()) detaches every handle (they run on without offload, as if set to
//     null, and drop their reference), empties its tables and zeroes every slot's keys. A closed offload
//     refuses to be attached to (Error) and answers like an empty one: slotCreate -1, flowInstall -1,
//     poll() nothing. Collected without close() (only possible with no handle attached, or when the whole
//     environment goes away, where finalizers run in any order) it does the same, without touching JS.
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "aead.h"
#include "gso.h"

namespace vswitch {

class IoHandle;
class StreamHandle;
class UdpHandle;

namespace offload {

constexpr uint32_t kRingBlocks = 256;

// The replay ring of replay.ts: 256 blocks of 32 bits, usable window 255 × 32.
struct Replay {
  uint32_t ring[kRingBlocks];
  uint64_t last;
};

struct Slot {
  bool isUsed = false;
  uint8_t sendKey[32];
  uint8_t receiveKey[32];
  uint32_t localIndex = 0;
  uint32_t remoteIndex = 0;
  uint64_t sendCounter = 0;
  Replay replay;
  uint64_t rejectAt = UINT64_MAX;   // Reject-After-Time
  uint64_t txRekeyAt = UINT64_MAX;  // initiator: Rekey-After-Time (JS starts the rekey on its next send)
  uint64_t rxRekeyAt = UINT64_MAX;  // initiator: the last-minute rekey on receive
  int32_t linkId = -1;              // the link it may be opened for on the fast path, else -1
  // Fast-path traffic since the last poll.
  double txPackets = 0, txBytes = 0, rxPackets = 0, rxBytes = 0;
  uint64_t lastTx = 0, lastRx = 0;
};

struct Link {
  UdpHandle* udp = nullptr;
  StreamHandle* stream = nullptr;  // a TCP link (linkSetStream): sends go on it, its messages are the link's
  struct sockaddr_storage addr;
  socklen_t addrLen = 0;
  uint32_t words[6];  // the endpoint as udp-handle.h reports sources
  int32_t txSlot = -1;
  int32_t rxSlots[2] = {-1, -1};
  std::vector<struct iovec> pending;
};

struct FlowKey {
  int32_t inPort;
  uint64_t src;
  uint64_t dst;
  bool operator==(const FlowKey& o) const { return inPort == o.inPort && src == o.src && dst == o.dst; }
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    uint64_t h = k.src * 0x9E3779B97F4A7C15ull ^ (k.dst + 0x7F4A7C159E3779B9ull + (k.src << 6));
    h ^= static_cast<uint64_t>(static_cast<uint32_t>(k.inPort)) * 0xC2B2AE3D27D4EB4Full;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

struct Flow {
  uint32_t id;
  int32_t outPort;
  IoHandle* io;  // set for a TAP/capture output
  Link* link;    // set for a link output (node pointers of unordered_map are stable)
  double packets = 0, bytes = 0;  // since the last poll
};

struct Counters {
  double txHits = 0, txMisses = 0, txPunts = 0, rxHits = 0, rxPunts = 0, installs = 0, flushes = 0;
};

}  // namespace offload

class NativeOffload : public Napi::ObjectWrap<NativeOffload> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeOffload(const Napi::CallbackInfo& info);
  ~NativeOffload() override;

  // The NativeOffload a value wraps, checked by type tag (type-tag.h): anything else is a TypeError (nullptr).
  // It hides ObjectWrap::Unwrap, so the method wrappers of node-addon-api (T::Unwrap) check it too.
  static NativeOffload* Unwrap(Napi::Object wrapper);
  static NativeOffload* FromValue(Napi::Value value);
  // A handle's "attach to this offload" argument: null/undefined = detach (*next = nullptr, true); an open
  // NativeOffload (true); anything else a TypeError, a closed one an Error naming `what` (false, exception pending).
  static bool FromOptionalOpen(Napi::Env env, Napi::Value value, const char* what, NativeOffload** next);

  bool IsClosed() const { return isClosed_; }

  // ---- for the handles (io-handle.cc, udp-handle.cc) ----
  // An IoHandle attaches under a port id: its frames are looked up under that in-port, and it becomes the
  // port's output. A port id that had another handle flushes every flow (they wrote to the other handle), as
  // every change that could alter a decision does.
  void AttachIo(IoHandle* io, int32_t portId);
  // It leaves: its port id is released (flushing every flow) if still its own — a handle that gave its id to
  // another handle leaves that one in place — and no flow points at it any more.
  void DetachIo(IoHandle* io, int32_t portId);
  void AttachUdp(UdpHandle* udp);
  // The links through it are dropped (and every flow flushed).
  void DetachUdp(UdpHandle* udp);
  // IoHandle, for each frame read on an attached port (with its normalized virtio-net header when the port reads
  // them, else nullptr): true when the frame was taken.
  bool TakeFrame(int32_t inPort, uint8_t* frame, size_t length, const gso::VnetHeader* header);
  // UdpHandle, for each datagram (addr: the 6 words of udp-handle.h): true when it was taken.
  bool TakeDatagram(UdpHandle* udp, const uint8_t* message, size_t length, const uint32_t* addr);
  // A TCP link's stream (stream-handle.h) joins and leaves as a UdpHandle does; its links go when it leaves.
  void AttachStream(StreamHandle* stream);
  void DetachStream(StreamHandle* stream);
  // StreamHandle, for each complete message: true when it was taken (the link's own stream only).
  bool TakeStreamMessage(StreamHandle* stream, const uint8_t* message, size_t length);
  // Ends a read batch: sends what the fast paths queued, one sendmmsg per link, and writes the wire frames
  // waiting for TAPs with offloads (coalesced).
  void FlushSends();

 private:
  // JS methods (see offload.cc for each one's signature).
  Napi::Value LinkSet(const Napi::CallbackInfo& info);
  Napi::Value LinkSetStream(const Napi::CallbackInfo& info);
  Napi::Value LinkRemove(const Napi::CallbackInfo& info);
  Napi::Value FlowInstall(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Configure(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value CountersJs(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetIsClosed(const Napi::CallbackInfo& info);
  // The slot calls are on the data path: raw Node-API (napi-args.h), nothing thrown for a bad shape. They are
  // own functions of each instance, bound to it through a SlotsBinding (their data), not prototype methods:
  // unwrapping and type-checking `this` would cost more than the call (~4x). A slot function kept after its
  // offload went away finds the binding empty and answers as a closed offload does.
  struct SlotsBinding {
    NativeOffload* owner;
  };
  void DefineSlotFunctions(Napi::Env env, Napi::Object self);
  static NativeOffload* FromData(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv);
  static napi_value SlotCreate(napi_env env, napi_callback_info info);
  static napi_value SlotFree(napi_env env, napi_callback_info info);
  static napi_value SlotSeal(napi_env env, napi_callback_info info);
  static napi_value SlotOpen(napi_env env, napi_callback_info info);
  static napi_value SlotReplay(napi_env env, napi_callback_info info);
  static napi_value SlotSendCounter(napi_env env, napi_callback_info info);

  // Detaches every handle, empties the tables, zeroes the keys. `canTouchJs` false from the finalizer.
  void Shutdown(bool canTouchJs);
  offload::Slot* UsableSlot(int32_t id);
  // `wireLength`: its largest wire frame (a super-frame's segments are what maxFrameBytes applies to).
  bool ParseFrame(const uint8_t* f, size_t length, size_t wireLength, uint64_t* src, uint64_t* dst) const;
  offload::Flow* FindFlow(int32_t inPort, const uint8_t* frame, size_t length, size_t wireLength);
  bool Output(offload::Flow& flow, const uint8_t* frame, size_t length, const gso::VnetHeader* header, uint64_t now);
  // Seals one wire frame for `link` on `slot` (checked usable) into the batch; false when it cannot fit a slot.
  bool SealOne(offload::Link* link, offload::Slot* slot, const uint8_t* frame, size_t length, uint64_t now);
  // Seals the wire frame of `length` bytes already placed at SealSlotFrame(sealUsed_) (checked to fit).
  bool SealInSlot(offload::Link* link, offload::Slot* slot, size_t length, uint64_t now);
  // Where seal slot i's Ethernet frame goes: after the transport header and the payload header.
  uint8_t* SealSlotFrame(size_t i);
  void FlushAllFlows();
  // Queues a wire frame for a TAP with offloads until FlushSends (copied: the caller's buffer is reused).
  void QueueForTap(IoHandle* io, const uint8_t* frame, size_t length);
  void FlushTapWrites();
  void UnbindSlots(offload::Link& link);
  // A transport handle went away: the links on it go (slots unbound), flows flushed if any did. Pred: Link -> bool.
  template <typename Pred>
  void DropLinksWhere(Pred isOnIt);
  void BindSlots(offload::Link& link, int32_t linkId, int32_t txSlot, int32_t rxA, int32_t rxB);
  // TakeDatagram and TakeStreamMessage: a UDP message must come from the link's socket and endpoint (addr), a
  // stream's from the link's own stream.
  bool TakeMessage(const uint8_t* message, size_t length, UdpHandle* udp, StreamHandle* stream, const uint32_t* addr);

  bool isClosed_ = false;
  std::vector<offload::Slot> slots_;
  std::vector<int32_t> freeSlots_;
  std::unordered_map<uint32_t, int32_t> slotByIndex_;
  std::unordered_map<int32_t, offload::Link> links_;
  std::unordered_map<int32_t, IoHandle*> outputs_;
  std::unordered_map<offload::FlowKey, offload::Flow, offload::FlowKeyHash> flows_;
  std::vector<offload::Link*> dirtyLinks_;
  // Every handle attached here (each holds a reference to this object; this one holds none to them).
  std::unordered_set<IoHandle*> ios_;
  std::unordered_set<UdpHandle*> udps_;
  std::unordered_set<StreamHandle*> streams_;
  uint32_t nextFlowId_ = 1;
  size_t maxFrameBytes_ = 1518;
  offload::Counters counters_;

  std::shared_ptr<SlotsBinding> slotsBinding_;  // shared with the slot functions' finalizers
  AeadContexts aead_;
  // Sealed messages wait in sealScratch_ until the end of the read batch; openScratch_ takes one opened datagram.
  std::unique_ptr<uint8_t[]> sealScratch_;
  size_t sealUsed_ = 0;
  std::unique_ptr<uint8_t[]> openScratch_;
  struct TapPending {
    IoHandle* io;
    std::vector<const uint8_t*> data;
    std::vector<size_t> lengths;
  };
  std::vector<TapPending> tapPending_;
  std::unique_ptr<uint8_t[]> tapScratch_;
  size_t tapUsed_ = 0;
  // A super-frame cut into wire frames on its way to a link (made on first use).
  std::unique_ptr<uint8_t[]> segmentScratch_;
  std::unique_ptr<uint32_t[]> segmentLengths_;
};

}  // namespace vswitch
