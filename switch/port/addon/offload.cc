// See offload.h for the design.
#include "offload.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <uv.h>

#include <cstring>
#include <string>

#include "io-handle.h"
#include "napi-args.h"
#include "stream-handle.h"
#include "type-tag.h"
#include "udp-handle.h"

namespace vswitch {

using offload::Flow;
using offload::FlowKey;
using offload::kRingBlocks;
using offload::Link;
using offload::Replay;
using offload::Slot;

namespace {

constexpr napi_type_tag kNativeOffloadTag = {0x7673776974636803ull, 0x6f66666c6f616421ull};

/* Specification constants (WireGuard whitepaper §5.4.6, link-payload.ts) */
constexpr uint8_t kMessageTransport = 4;
constexpr size_t kTransportHeaderBytes = 16;
constexpr size_t kTagBytes = 16;
// Reject-After-Messages = 2^64 − 2^13 − 1.
constexpr uint64_t kRejectAfterMessages = 0xFFFFFFFFFFFFDFFFull;
constexpr uint8_t kPayloadEthernet = 0x01;
constexpr size_t kPayloadHeaderBytes = 3;

/* Implementation constants */
constexpr uint64_t kReplayWindow = (kRingBlocks - 1) * 32;
// Sends at or above 2^53 are refused, as device.ts SEND_COUNTER_LIMIT.
constexpr uint64_t kSendCounterLimit = (1ull << 53) - 1;
// Sealed messages wait until the end of the read batch (larger frames go through JS).
constexpr size_t kSealSlots = 128;
constexpr size_t kSealSlotBytes = 2048;
constexpr size_t kOpenScratchBytes = 65536;
// Wire frames waiting for a TAP with offloads until the end of the read batch (a full buffer writes early).
constexpr size_t kTapScratchBytes = 1 << 20;
constexpr size_t kMaxFlows = 65536;
constexpr size_t kEthernetHeaderBytes = 14;
constexpr uint64_t kNever = UINT64_MAX;

enum Verdict : int32_t { kOk = 0, kReplayed = 1, kOutOfWindow = 2, kCounterLimit = 3 };

// replay.ts ReplayFilter.validate, with `commit` false: the verdict only, nothing recorded.
Verdict CheckReplay(Replay& r, uint64_t counter, bool commit) {
  if (counter >= kRejectAfterMessages) return kCounterLimit;
  uint64_t index = counter >> 5;
  uint32_t slot = static_cast<uint32_t>(index) & (kRingBlocks - 1);
  if (counter > r.last) {
    uint64_t blocks = index - (r.last >> 5);
    if (!commit) {
      if (blocks >= 1) return kOk;  // the block would be cleared
    } else {
      if (blocks >= kRingBlocks) {
        std::memset(r.ring, 0, sizeof(r.ring));
      } else {
        uint32_t current = static_cast<uint32_t>(r.last >> 5) & (kRingBlocks - 1);
        for (uint64_t i = 1; i <= blocks; i++) r.ring[(current + i) & (kRingBlocks - 1)] = 0;
      }
      r.last = counter;
    }
  } else if (r.last - counter >= kReplayWindow) {
    return kOutOfWindow;
  }
  uint32_t mask = 1u << (counter & 31);
  if (r.ring[slot] & mask) return kReplayed;
  if (commit) r.ring[slot] |= mask;
  return kOk;
}

uint64_t ReadMac(const uint8_t* p) {
  return (static_cast<uint64_t>(p[0]) << 40) | (static_cast<uint64_t>(p[1]) << 32) |
         (static_cast<uint64_t>(p[2]) << 24) | (static_cast<uint64_t>(p[3]) << 16) |
         (static_cast<uint64_t>(p[4]) << 8) | p[5];
}

uint64_t ReadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint32_t ReadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

void WriteLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void WriteLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

bool IsTpid(uint32_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

// The endpoint words of a sockaddr, normalized as UdpHandle::SplitBatch reports sources.
void EndpointWords(const struct sockaddr_storage& addr, uint32_t out[6]) {
  std::memset(out, 0, 6 * sizeof(uint32_t));
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const struct sockaddr_in&>(addr);
    out[0] = 4;
    out[1] = ntohs(a.sin_port);
    out[2] = ntohl(a.sin_addr.s_addr);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const struct sockaddr_in6&>(addr);
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) {
      uint32_t v4;
      std::memcpy(&v4, &a.sin6_addr.s6_addr[12], 4);
      out[0] = 4;
      out[2] = ntohl(v4);
    } else {
      out[0] = 6;
      std::memcpy(out + 2, &a.sin6_addr, 16);
    }
    out[1] = ntohs(a.sin6_port);
  }
}

double F64(napi_env env, napi_value v) {
  double out = 0;
  napi_get_value_double(env, v, &out);
  return out;
}

napi_value Num(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

uint64_t DeadlineFromNow(double inMs, uint64_t now) {
  if (!(inMs < 1e12)) return kNever;  // Infinity / NaN: no deadline
  if (inMs <= 0) return now;
  return now + static_cast<uint64_t>(inMs * 1e6);
}

int32_t SlotArg(Napi::Value v) { return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : -1; }

void ThrowError(Napi::Env env, const char* message) { Napi::Error::New(env, message).ThrowAsJavaScriptException(); }

}  // namespace

// ---- construction, lifetime --------------------------------------------------------------------

Napi::Function NativeOffload::Define(Napi::Env env) {
  return DefineClass(env, "NativeOffload",
                     {
                         InstanceMethod<&NativeOffload::LinkSet>("linkSet"),
                         InstanceMethod<&NativeOffload::LinkSetStream>("linkSetStream"),
                         InstanceMethod<&NativeOffload::LinkRemove>("linkRemove"),
                         InstanceMethod<&NativeOffload::FlowInstall>("flowInstall"),
                         InstanceMethod<&NativeOffload::Flush>("flush"),
                         InstanceMethod<&NativeOffload::Configure>("configure"),
                         InstanceMethod<&NativeOffload::Poll>("poll"),
                         InstanceMethod<&NativeOffload::CountersJs>("counters"),
                         InstanceMethod<&NativeOffload::Close>("close"),
                         InstanceAccessor<&NativeOffload::GetIsClosed>("isClosed"),
                     });
}

// new NativeOffload(): empty tables (addon.createOffload() makes one).
NativeOffload::NativeOffload(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeOffload>(info) {
  Napi::Env env = info.Env();
  Napi::Object self = info.This().As<Napi::Object>();
  slotsBinding_ = std::make_shared<SlotsBinding>(SlotsBinding{this});
  if (!TagObject(env, self, kNativeOffloadTag)) return;
  sealScratch_.reset(new uint8_t[kSealSlots * kSealSlotBytes]);
  openScratch_.reset(new uint8_t[kOpenScratchBytes]);
  DefineSlotFunctions(env, self);
}

NativeOffload::~NativeOffload() {
  Shutdown(false);
  slotsBinding_->owner = nullptr;  // slot functions that outlive this object answer as a closed offload
}

// slotCreate … slotSendCounter as own, read-only properties, each a function whose data is the binding; each
// function's finalizer holds a share of it, so the binding lives as long as the longest of them and this object.
void NativeOffload::DefineSlotFunctions(Napi::Env env, Napi::Object self) {
  struct Raw {
    const char* name;
    napi_callback cb;
  };
  const Raw raws[] = {{"slotCreate", SlotCreate}, {"slotFree", SlotFree},     {"slotSeal", SlotSeal},
                      {"slotOpen", SlotOpen},     {"slotReplay", SlotReplay}, {"slotSendCounter", SlotSendCounter}};
  for (const Raw& r : raws) {
    napi_value fn;
    if (napi_create_function(env, r.name, NAPI_AUTO_LENGTH, r.cb, slotsBinding_.get(), &fn) != napi_ok) return;
    auto* share = new std::shared_ptr<SlotsBinding>(slotsBinding_);
    napi_status added = napi_add_finalizer(
        env, fn, share,
        [](napi_env, void* data, void*) { delete static_cast<std::shared_ptr<SlotsBinding>*>(data); }, nullptr,
        nullptr);
    if (added != napi_ok) {
      delete share;
      return;
    }
    napi_property_descriptor d = {r.name, nullptr, nullptr, nullptr, nullptr, fn, napi_default, nullptr};
    if (napi_define_properties(env, self, 1, &d) != napi_ok) return;
  }
}

NativeOffload* NativeOffload::Unwrap(Napi::Object wrapper) {
  return UnwrapTagged<NativeOffload>(wrapper, kNativeOffloadTag, "NativeOffload");
}

NativeOffload* NativeOffload::FromValue(Napi::Value value) {
  return UnwrapTagged<NativeOffload>(value, kNativeOffloadTag, "NativeOffload");
}

bool NativeOffload::FromOptionalOpen(Napi::Env env, Napi::Value value, const char* what, NativeOffload** next) {
  *next = nullptr;
  if (value.IsNull() || value.IsUndefined()) return true;
  *next = FromValue(value);  // else a TypeError
  if (*next == nullptr) return false;
  if ((*next)->IsClosed()) {
    Napi::Error::New(env, std::string(what) + ": the NativeOffload is closed").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// The NativeOffload a slot function is bound to, or nullptr once it went away (answer as closed then).
NativeOffload* NativeOffload::FromData(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  void* data = nullptr;
  if (napi_get_cb_info(env, info, argc, argv, nullptr, &data) != napi_ok || data == nullptr) return nullptr;
  return static_cast<SlotsBinding*>(data)->owner;
}

void NativeOffload::Shutdown(bool canTouchJs) {
  // Detach the handles first: none of them may call in here again.
  std::unordered_set<IoHandle*> ios;
  ios.swap(ios_);
  for (IoHandle* io : ios) io->OffloadGone(canTouchJs);
  std::unordered_set<UdpHandle*> udps;
  udps.swap(udps_);
  for (UdpHandle* udp : udps) udp->OffloadGone(canTouchJs);
  std::unordered_set<StreamHandle*> streams;
  streams.swap(streams_);
  for (StreamHandle* stream : streams) stream->OffloadGone(canTouchJs);
  dirtyLinks_.clear();
  sealUsed_ = 0;
  tapPending_.clear();
  tapUsed_ = 0;
  flows_.clear();
  links_.clear();
  outputs_.clear();
  for (Slot& s : slots_) {
    std::memset(s.sendKey, 0, sizeof(s.sendKey));
    std::memset(s.receiveKey, 0, sizeof(s.receiveKey));
  }
  slots_.clear();
  freeSlots_.clear();
  slotByIndex_.clear();
  isClosed_ = true;
}

// close(): every handle detached, the tables emptied, the keys zeroed. Idempotent.
Napi::Value NativeOffload::Close(const Napi::CallbackInfo& info) {
  if (!isClosed_) Shutdown(true);
  return info.Env().Undefined();
}

Napi::Value NativeOffload::GetIsClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), isClosed_);
}

// ---- the handles' side ---------------------------------------------------------------------------

void NativeOffload::AttachIo(IoHandle* io, int32_t portId) {
  ios_.insert(io);
  auto it = outputs_.find(portId);
  if (it != outputs_.end() && it->second == io) return;
  // The port had another handle: its flows write to that one (which may be closed and freed next).
  if (it != outputs_.end()) FlushAllFlows();
  outputs_[portId] = io;
}

void NativeOffload::DetachIo(IoHandle* io, int32_t portId) {
  ios_.erase(io);
  for (auto p = tapPending_.begin(); p != tapPending_.end();) {
    p = p->io == io ? tapPending_.erase(p) : p + 1;
  }
  bool isKnown = false;
  auto it = outputs_.find(portId);
  if (it != outputs_.end() && it->second == io) {  // else the id went to another handle since
    outputs_.erase(it);
    isKnown = true;
  }
  for (auto o = outputs_.begin(); o != outputs_.end();) {  // (never under another id: one at a time)
    if (o->second == io) {
      o = outputs_.erase(o);
      isKnown = true;
    } else {
      ++o;
    }
  }
  if (isKnown) FlushAllFlows();
}

void NativeOffload::AttachUdp(UdpHandle* udp) { udps_.insert(udp); }

template <typename Pred>
void NativeOffload::DropLinksWhere(Pred isOnIt) {
  bool isKnown = false;
  for (auto it = links_.begin(); it != links_.end();) {
    if (isOnIt(it->second)) {
      UnbindSlots(it->second);
      it = links_.erase(it);
      isKnown = true;
    } else {
      ++it;
    }
  }
  if (isKnown) FlushAllFlows();
}

void NativeOffload::DetachUdp(UdpHandle* udp) {
  FlushSends();
  udps_.erase(udp);
  DropLinksWhere([udp](const offload::Link& link) { return link.udp == udp; });
}

void NativeOffload::AttachStream(StreamHandle* stream) { streams_.insert(stream); }

void NativeOffload::DetachStream(StreamHandle* stream) {
  FlushSends();
  streams_.erase(stream);
  DropLinksWhere([stream](const offload::Link& link) { return link.stream == stream; });
}

// ---- tables --------------------------------------------------------------------------------------

Slot* NativeOffload::UsableSlot(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= slots_.size() || !slots_[id].isUsed) return nullptr;
  return &slots_[id];
}

// ethernet.ts inspectFrame, as a yes/no: a frame the core would not drop, with its MACs.
bool NativeOffload::ParseFrame(const uint8_t* f, size_t length, size_t wireLength, uint64_t* src,
                               uint64_t* dst) const {
  if (length < kEthernetHeaderBytes || wireLength > maxFrameBytes_) return false;
  size_t typeOffset = 12;
  uint32_t etherType = (static_cast<uint32_t>(f[12]) << 8) | f[13];
  for (int tags = 0; tags < 2 && IsTpid(etherType); tags++) {
    if (length < typeOffset + 4 + 2) return false;
    typeOffset += 4;
    etherType = (static_cast<uint32_t>(f[typeOffset]) << 8) | f[typeOffset + 1];
  }
  uint64_t s = ReadMac(f + 6);
  if ((f[6] & 1) != 0 || s == 0) return false;
  size_t headerBytes = typeOffset + 2;
  if (etherType < 0x0600 && etherType > length - headerBytes) return false;
  *src = s;
  *dst = ReadMac(f);
  return true;
}

// The sealed message's size for a wire frame of `length` bytes (padded to 16, as device.ts pads).
static size_t SealedBytes(size_t length) {
  size_t payload = kPayloadHeaderBytes + length;
  return kTransportHeaderBytes + payload + (16 - payload % 16) % 16 + kTagBytes;
}

uint8_t* NativeOffload::SealSlotFrame(size_t i) {
  return sealScratch_.get() + i * kSealSlotBytes + kTransportHeaderBytes + kPayloadHeaderBytes;
}

bool NativeOffload::SealOne(Link* link, Slot* slot, const uint8_t* frame, size_t length, uint64_t now) {
  if (SealedBytes(length) > kSealSlotBytes) return false;
  if (sealUsed_ == kSealSlots) FlushSends();
  uint8_t* place = SealSlotFrame(sealUsed_);
  if (frame != place) std::memcpy(place, frame, length);  // a relayed frame was opened in place (TakeDatagram)
  return SealInSlot(link, slot, length, now);
}

bool NativeOffload::SealInSlot(Link* link, Slot* slot, size_t length, uint64_t now) {
  size_t payload = kPayloadHeaderBytes + length;
  size_t pad = (16 - payload % 16) % 16;
  size_t total = SealedBytes(length);
  uint8_t* out = sealScratch_.get() + sealUsed_ * kSealSlotBytes;
  uint64_t counter = slot->sendCounter;
  out[0] = kMessageTransport;
  out[1] = out[2] = out[3] = 0;
  WriteLe32(out + 4, slot->remoteIndex);
  WriteLe64(out + 8, counter);
  uint8_t* plain = out + kTransportHeaderBytes;
  plain[0] = kPayloadEthernet;
  plain[1] = static_cast<uint8_t>(length >> 8);
  plain[2] = static_cast<uint8_t>(length & 0xff);
  std::memset(plain + payload, 0, pad);
  if (!aead_.SealInPlace(slot->sendKey, counter, plain, payload + pad)) return false;
  slot->sendCounter = counter + 1;
  sealUsed_++;
  slot->txPackets++;
  slot->txBytes += static_cast<double>(payload);  // device.ts counts the plaintext before padding
  slot->lastTx = now;
  if (link->pending.empty()) dirtyLinks_.push_back(link);
  link->pending.push_back({out, total});
  return true;
}

// Sends a frame out of a flow; false when it must go through JS instead (nothing was sent). A super-frame
// (`header` with work) goes as it is to a TAP that takes headers; to any other output it is cut into wire
// frames first (gso::Segment), as a device without offloads and WireGuard's wire need them.
bool NativeOffload::Output(Flow& flow, const uint8_t* frame, size_t length, const gso::VnetHeader* header,
                           uint64_t now) {
  bool hasWork = header != nullptr && header->HasWork();
  size_t wireFrames = hasWork ? gso::SegmentCount(*header, length) : 1;
  size_t wireBytes = hasWork ? gso::WireBytes(*header, length) : length;
  if (flow.io != nullptr) {
    if (header == nullptr && flow.io->HasVnetHeader()) QueueForTap(flow.io, frame, length);
    else flow.io->WriteOne(frame, length, header);
  } else {
    Link* link = flow.link;
    Slot* slot = UsableSlot(link->txSlot);
    if (slot == nullptr || (link->udp == nullptr && link->stream == nullptr) || now >= slot->rejectAt || now >= slot->txRekeyAt ||
        slot->sendCounter + wireFrames > kSendCounterLimit) {
      return false;
    }
    if (!hasWork) {
      if (!SealOne(link, slot, frame, length, now)) return false;
    } else {
      // Every segment must fit a seal slot (checked before any is sealed: all of it goes, or JS gets it whole).
      size_t largest = gso::LargestSegmentBytes(*header, length);
      if (kTransportHeaderBytes + kPayloadHeaderBytes + largest + 15 + kTagBytes > kSealSlotBytes) return false;
      gso::Layout layout;
      if (header->IsGso() && !gso::ParseLayout(frame, length, &layout)) return false;
      if (!segmentLengths_) segmentLengths_.reset(new uint32_t[gso::kMaxSegments]);
      size_t count = gso::SegmentCount(*header, length);
      if (count <= kSealSlots) {
        // Cut straight into the seal slots, each segment where it is sealed (no copy in between).
        if (sealUsed_ + count > kSealSlots) FlushSends();
        size_t segments = gso::SegmentStrided(*header, layout, frame, length, SealSlotFrame(sealUsed_), kSealSlotBytes,
                                              segmentLengths_.get(), kSealSlots - sealUsed_);
        if (segments == 0) return false;
        for (size_t i = 0; i < segments; i++) {
          if (!SealInSlot(link, slot, segmentLengths_[i], now)) break;  // the slots after it hold unsealed bytes: dropped
        }
        flow.packets += static_cast<double>(wireFrames);
        flow.bytes += static_cast<double>(wireBytes);
        return true;
      }
      // More segments than seal slots (a tiny MSS): cut into scratch, then sealed slot by slot across flushes.
      if (!segmentScratch_) segmentScratch_.reset(new uint8_t[gso::kSegmentRoomBytes]);
      size_t segments = gso::Segment(*header, layout, frame, length, segmentScratch_.get(), gso::kSegmentRoomBytes,
                                     segmentLengths_.get(), gso::kMaxSegments);
      if (segments == 0) return false;
      const uint8_t* at = segmentScratch_.get();
      for (size_t i = 0; i < segments; i++) {
        SealOne(link, slot, at, segmentLengths_[i], now);  // fits: checked above
        at += segmentLengths_[i];
      }
    }
  }
  flow.packets += static_cast<double>(wireFrames);
  flow.bytes += static_cast<double>(wireBytes);
  return true;
}

Flow* NativeOffload::FindFlow(int32_t inPort, const uint8_t* frame, size_t length, size_t wireLength) {
  uint64_t src, dst;
  if (!ParseFrame(frame, length, wireLength, &src, &dst) || (frame[0] & 1) != 0) return nullptr;
  auto it = flows_.find(FlowKey{inPort, src, dst});
  return it == flows_.end() ? nullptr : &it->second;
}

void NativeOffload::FlushAllFlows() {
  if (!flows_.empty()) flows_.clear();
  counters_.flushes++;
}

void NativeOffload::UnbindSlots(Link& link) {
  for (int32_t id : link.rxSlots) {
    if (Slot* s = UsableSlot(id)) s->linkId = -1;
  }
  link.rxSlots[0] = link.rxSlots[1] = -1;
}

// ---- fast paths ----------------------------------------------------------------------------------

bool NativeOffload::TakeFrame(int32_t inPort, uint8_t* frame, size_t length, const gso::VnetHeader* header) {
  if (flows_.empty()) {
    counters_.txMisses++;
    return false;
  }
  size_t wireLength = header == nullptr ? length : gso::LargestSegmentBytes(*header, length);
  Flow* flow = FindFlow(inPort, frame, length, wireLength);
  if (flow == nullptr) {
    counters_.txMisses++;
    return false;
  }
  if (!Output(*flow, frame, length, header, uv_hrtime())) {
    counters_.txPunts++;
    return false;
  }
  counters_.txHits++;
  return true;
}

bool NativeOffload::TakeDatagram(UdpHandle* udp, const uint8_t* message, size_t length, const uint32_t* addr) {
  return TakeMessage(message, length, udp, nullptr, addr);
}

bool NativeOffload::TakeStreamMessage(StreamHandle* stream, const uint8_t* message, size_t length) {
  return TakeMessage(message, length, nullptr, stream, nullptr);
}

bool NativeOffload::TakeMessage(const uint8_t* message, size_t length, UdpHandle* udp, StreamHandle* stream,
                                const uint32_t* addr) {
  if (slotByIndex_.empty() || flows_.empty()) return false;
  if (length < kTransportHeaderBytes + kTagBytes || message[0] != kMessageTransport || message[1] != 0 ||
      message[2] != 0 || message[3] != 0) {
    return false;
  }
  auto found = slotByIndex_.find(ReadLe32(message + 4));
  if (found == slotByIndex_.end()) return false;
  Slot& slot = slots_[found->second];
  if (!slot.isUsed) return false;
  size_t plainLength = length - kTransportHeaderBytes - kTagBytes;
  auto linkIt = slot.linkId < 0 ? links_.end() : links_.find(slot.linkId);
  uint64_t counter = ReadLe64(message + 8);
  uint64_t now = uv_hrtime();
  bool isLinkWay = linkIt != links_.end() &&
                   (stream != nullptr ? linkIt->second.stream == stream
                                      : linkIt->second.udp == udp &&
                                            std::memcmp(addr, linkIt->second.words, sizeof(linkIt->second.words)) == 0);
  if (!isLinkWay || now >= slot.rejectAt || now >= slot.rxRekeyAt ||
      plainLength < kPayloadHeaderBytes + kEthernetHeaderBytes || plainLength > kOpenScratchBytes ||
      CheckReplay(slot.replay, counter, false) != kOk) {
    counters_.rxPunts++;
    return false;
  }
  // Opened where its frame would be re-sealed if a flow sends it on over a link (the Proxy's relay): the plaintext
  // is already a seal slot's payload (type, length, frame, padding), so SealOne copies nothing. Else scratch.
  uint8_t* opened = sealUsed_ < kSealSlots && kTransportHeaderBytes + plainLength + kTagBytes <= kSealSlotBytes
                        ? SealSlotFrame(sealUsed_) - kPayloadHeaderBytes
                        : openScratch_.get();
  if (!aead_.OpenTo(slot.receiveKey, counter, message + kTransportHeaderBytes, length - kTransportHeaderBytes, opened) ||
      opened[0] != kPayloadEthernet) {
    counters_.rxPunts++;
    return false;
  }
  size_t frameLength = (static_cast<size_t>(opened[1]) << 8) | opened[2];
  const uint8_t* frame = opened + kPayloadHeaderBytes;
  Flow* flow = kPayloadHeaderBytes + frameLength > plainLength ? nullptr
                                                               : FindFlow(slot.linkId, frame, frameLength, frameLength);
  if (flow == nullptr || !Output(*flow, frame, frameLength, nullptr, now)) {
    counters_.rxPunts++;
    return false;
  }
  CheckReplay(slot.replay, counter, true);
  slot.rxPackets++;
  slot.rxBytes += static_cast<double>(plainLength);  // device.ts counts the opened plaintext, padding included
  slot.lastRx = now;
  counters_.rxHits++;
  return true;
}

void NativeOffload::QueueForTap(IoHandle* io, const uint8_t* frame, size_t length) {
  if (!tapScratch_) tapScratch_.reset(new uint8_t[kTapScratchBytes]);
  if (length > kTapScratchBytes) {
    io->WriteOne(frame, length, nullptr);
    return;
  }
  if (tapUsed_ + length > kTapScratchBytes) FlushTapWrites();
  uint8_t* copy = tapScratch_.get() + tapUsed_;
  std::memcpy(copy, frame, length);
  tapUsed_ += length;
  TapPending* pending = nullptr;
  for (TapPending& p : tapPending_) {
    if (p.io == io) pending = &p;
  }
  if (pending == nullptr) {
    tapPending_.push_back(TapPending{io, {}, {}});
    pending = &tapPending_.back();
  }
  pending->data.push_back(copy);
  pending->lengths.push_back(length);
}

void NativeOffload::FlushTapWrites() {
  for (TapPending& p : tapPending_) {
    p.io->WriteCoalesced(p.data.data(), p.lengths.data(), static_cast<uint32_t>(p.data.size()));
  }
  tapPending_.clear();
  tapUsed_ = 0;
}

void NativeOffload::FlushSends() {
  FlushTapWrites();
  for (Link* link : dirtyLinks_) {
    if (link->stream != nullptr && !link->pending.empty()) {
      link->stream->SendMessages(link->pending.data(), static_cast<uint32_t>(link->pending.size()));
    } else if (link->udp != nullptr && !link->pending.empty()) {
      link->udp->SendDatagrams(link->pending.data(), static_cast<uint32_t>(link->pending.size()),
                               reinterpret_cast<struct sockaddr*>(&link->addr), link->addrLen);
    }
    link->pending.clear();
  }
  dirtyLinks_.clear();
  sealUsed_ = 0;
}

// ---- keypair slots (raw Node-API) ----------------------------------------------------------------

// slotCreate(sendKey, receiveKey, localIndex, remoteIndex, rejectInMs, txRekeyInMs, rxRekeyInMs) → id | -1
// (-1 also once closed).
napi_value NativeOffload::SlotCreate(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  NativeOffload* self = FromData(env, info, &argc, argv);
  uint8_t *sendKey, *receiveKey;
  size_t sendLen, receiveLen;
  if (self == nullptr || self->isClosed_ || argc < 7 || !Bytes(env, argv[0], &sendKey, &sendLen) ||
      !Bytes(env, argv[1], &receiveKey, &receiveLen) || sendLen != 32 || receiveLen != 32) {
    return Num(env, -1);
  }
  int32_t id;
  if (!self->freeSlots_.empty()) {
    id = self->freeSlots_.back();
    self->freeSlots_.pop_back();
  } else {
    id = static_cast<int32_t>(self->slots_.size());
    self->slots_.emplace_back();
  }
  Slot& s = self->slots_[id];
  s = Slot();
  s.isUsed = true;
  std::memcpy(s.sendKey, sendKey, 32);
  std::memcpy(s.receiveKey, receiveKey, 32);
  std::memset(&s.replay, 0, sizeof(s.replay));
  s.localIndex = U32(env, argv[2]);
  s.remoteIndex = U32(env, argv[3]);
  uint64_t now = uv_hrtime();
  s.rejectAt = DeadlineFromNow(F64(env, argv[4]), now);
  s.txRekeyAt = DeadlineFromNow(F64(env, argv[5]), now);
  s.rxRekeyAt = DeadlineFromNow(F64(env, argv[6]), now);
  self->slotByIndex_[s.localIndex] = id;
  return Num(env, id);
}

// slotFree(id) → [txPackets, txBytes, rxPackets, rxBytes] not yet polled; keys zeroed, id reusable.
napi_value NativeOffload::SlotFree(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NativeOffload* self = FromData(env, info, &argc, argv);
  napi_value result;
  napi_create_array_with_length(env, 4, &result);
  int32_t id = argc < 1 ? -1 : I32(env, argv[0]);
  Slot* s = self == nullptr ? nullptr : self->UsableSlot(id);
  if (s == nullptr) return result;
  double left[4] = {s->txPackets, s->txBytes, s->rxPackets, s->rxBytes};
  for (uint32_t i = 0; i < 4; i++) napi_set_element(env, result, i, Num(env, left[i]));
  auto it = self->slotByIndex_.find(s->localIndex);
  if (it != self->slotByIndex_.end() && it->second == id) self->slotByIndex_.erase(it);
  for (auto& [linkId, link] : self->links_) {
    if (link.txSlot == id) link.txSlot = -1;
    for (int32_t& rx : link.rxSlots) {
      if (rx == id) rx = -1;
    }
  }
  std::memset(s->sendKey, 0, 32);
  std::memset(s->receiveKey, 0, 32);
  s->isUsed = false;
  s->linkId = -1;
  self->freeSlots_.push_back(id);
  return result;
}

// slotSeal(id, plaintext, out, padBytes) → the counter used, or -1 (out must be 32 + plaintext + pad bytes).
napi_value NativeOffload::SlotSeal(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NativeOffload* self = FromData(env, info, &argc, argv);
  if (self == nullptr || argc < 4) return Num(env, -1);
  Slot* s = self->UsableSlot(I32(env, argv[0]));
  uint8_t *pt, *out;
  size_t ptLen, outLen;
  if (s == nullptr || !Bytes(env, argv[1], &pt, &ptLen) || !Bytes(env, argv[2], &out, &outLen)) return Num(env, -1);
  uint32_t pad = U32(env, argv[3]);
  if (pad >= 16 || outLen != kTransportHeaderBytes + ptLen + pad + kTagBytes || s->sendCounter >= kSendCounterLimit) {
    return Num(env, -1);
  }
  uint64_t counter = s->sendCounter;
  out[0] = kMessageTransport;
  out[1] = out[2] = out[3] = 0;
  WriteLe32(out + 4, s->remoteIndex);
  WriteLe64(out + 8, counter);
  std::memmove(out + kTransportHeaderBytes, pt, ptLen);
  std::memset(out + kTransportHeaderBytes + ptLen, 0, pad);
  if (!self->aead_.SealInPlace(s->sendKey, counter, out + kTransportHeaderBytes, ptLen + pad)) return Num(env, -1);
  s->sendCounter = counter + 1;
  return Num(env, static_cast<double>(counter));
}

// slotOpen(id, lo, hi, box, out) → boolean (the replay window is NOT touched)
napi_value NativeOffload::SlotOpen(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NativeOffload* self = FromData(env, info, &argc, argv);
  napi_value result;
  napi_get_boolean(env, false, &result);
  if (self == nullptr || argc < 5) return result;
  Slot* s = self->UsableSlot(I32(env, argv[0]));
  uint8_t *box, *out;
  size_t boxLen, outLen;
  if (s == nullptr || !Bytes(env, argv[3], &box, &boxLen) || !Bytes(env, argv[4], &out, &outLen)) return result;
  if (boxLen < kTagBytes || outLen < boxLen - kTagBytes) return result;
  uint64_t counter = (static_cast<uint64_t>(U32(env, argv[2])) << 32) | U32(env, argv[1]);
  if (self->aead_.OpenTo(s->receiveKey, counter, box, boxLen, out)) napi_get_boolean(env, true, &result);
  return result;
}

// slotReplay(id, lo, hi, commit = true) → 0 ok (recorded) | 1 replayed | 2 out of window | 3 counter limit
napi_value NativeOffload::SlotReplay(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NativeOffload* self = FromData(env, info, &argc, argv);
  if (self == nullptr || argc < 3) return Num(env, kCounterLimit);
  Slot* s = self->UsableSlot(I32(env, argv[0]));
  if (s == nullptr) return Num(env, kCounterLimit);
  uint64_t counter = (static_cast<uint64_t>(U32(env, argv[2])) << 32) | U32(env, argv[1]);
  bool commit = true;
  if (argc > 3) napi_get_value_bool(env, argv[3], &commit);
  return Num(env, CheckReplay(s->replay, counter, commit));
}

// slotSendCounter(id) → the next counter to send
napi_value NativeOffload::SlotSendCounter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NativeOffload* self = FromData(env, info, &argc, argv);
  Slot* s = self == nullptr || argc < 1 ? nullptr : self->UsableSlot(I32(env, argv[0]));
  return Num(env, s == nullptr ? static_cast<double>(kSendCounterLimit) : static_cast<double>(s->sendCounter));
}

// ---- links and flows -----------------------------------------------------------------------------

// linkSet(linkId, udpHandle, sockaddr, txSlot, rxSlotA, rxSlotB): udpHandle must be attached to this offload
// (udp.setOffload(offload)); an Error when it is not, or when this offload is closed.
Napi::Value NativeOffload::LinkSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsObject() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "linkSet(linkId, udpHandle, sockaddr, txSlot, rxSlotA, rxSlotB)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int32_t linkId = info[0].As<Napi::Number>().Int32Value();
  UdpHandle* udp = UdpHandle::Unwrap(info[1].As<Napi::Object>());  // checked by type tag: else a TypeError
  if (udp == nullptr) return env.Undefined();
  Napi::Uint8Array sockaddr = info[2].As<Napi::Uint8Array>();
  if (sockaddr.TypedArrayType() != napi_uint8_array || sockaddr.ByteLength() > sizeof(struct sockaddr_storage) ||
      sockaddr.ByteLength() < 2) {
    Napi::TypeError::New(env, "linkSet: not a sockaddr (UdpHandle.resolve)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (isClosed_) {
    ThrowError(env, "linkSet: this NativeOffload is closed");
    return env.Undefined();
  }
  if (udps_.count(udp) == 0) {
    ThrowError(env, "linkSet: the UdpHandle is not attached to this NativeOffload (udp.setOffload(offload) first)");
    return env.Undefined();
  }
  Link& link = links_[linkId];
  if (!link.pending.empty()) FlushSends();  // queued for the way it had
  link.udp = udp;
  link.stream = nullptr;
  std::memset(&link.addr, 0, sizeof(link.addr));
  std::memcpy(&link.addr, sockaddr.Data(), sockaddr.ByteLength());
  link.addrLen = static_cast<socklen_t>(sockaddr.ByteLength());
  EndpointWords(link.addr, link.words);
  BindSlots(link, linkId, SlotArg(info[3]), SlotArg(info[4]), SlotArg(info[5]));
  return env.Undefined();
}

// linkSetStream(linkId, streamHandle, txSlot, rxSlotA, rxSlotB): a TCP link. The stream must be attached to this
// offload (stream.setOffload(offload)); errors as linkSet.
Napi::Value NativeOffload::LinkSetStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsObject()) {
    Napi::TypeError::New(env, "linkSetStream(linkId, streamHandle, txSlot, rxSlotA, rxSlotB)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int32_t linkId = info[0].As<Napi::Number>().Int32Value();
  StreamHandle* stream = StreamHandle::Unwrap(info[1].As<Napi::Object>());  // checked by type tag: else a TypeError
  if (stream == nullptr) return env.Undefined();
  if (isClosed_) {
    ThrowError(env, "linkSetStream: this NativeOffload is closed");
    return env.Undefined();
  }
  if (streams_.count(stream) == 0) {
    ThrowError(env, "linkSetStream: the StreamHandle is not attached to this NativeOffload (stream.setOffload(offload) first)");
    return env.Undefined();
  }
  Link& link = links_[linkId];
  if (!link.pending.empty()) FlushSends();
  link.udp = nullptr;
  link.stream = stream;
  std::memset(&link.addr, 0, sizeof(link.addr));
  link.addrLen = 0;
  std::memset(link.words, 0, sizeof(link.words));
  BindSlots(link, linkId, SlotArg(info[2]), SlotArg(info[3]), SlotArg(info[4]));
  return env.Undefined();
}

void NativeOffload::BindSlots(Link& link, int32_t linkId, int32_t txSlot, int32_t rxA, int32_t rxB) {
  UnbindSlots(link);
  link.txSlot = UsableSlot(txSlot) == nullptr ? -1 : txSlot;
  const int32_t rx[2] = {rxA, rxB};
  for (int i = 0; i < 2; i++) {
    Slot* s = UsableSlot(rx[i]);
    if (s == nullptr) continue;
    s->linkId = linkId;
    link.rxSlots[i] = rx[i];
  }
}

// linkRemove(linkId): its flows go too (all flows are flushed).
Napi::Value NativeOffload::LinkRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
  auto it = links_.find(info[0].As<Napi::Number>().Int32Value());
  if (it == links_.end()) return env.Undefined();
  UnbindSlots(it->second);
  FlushAllFlows();
  links_.erase(it);
  return env.Undefined();
}

// flowInstall(inPort, srcMac, dstMac, outPort) → flow id, or -1 when the out-port has no native output here.
Napi::Value NativeOffload::FlowInstall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    return Napi::Number::New(env, -1);
  }
  int32_t inPort = info[0].As<Napi::Number>().Int32Value();
  double src = info[1].As<Napi::Number>().DoubleValue();
  double dst = info[2].As<Napi::Number>().DoubleValue();
  int32_t outPort = info[3].As<Napi::Number>().Int32Value();
  if (!(src >= 0 && src < 281474976710656.0) || !(dst >= 0 && dst < 281474976710656.0) || inPort == outPort) {
    return Napi::Number::New(env, -1);
  }
  FlowKey key{inPort, static_cast<uint64_t>(src), static_cast<uint64_t>(dst)};
  auto found = flows_.find(key);
  if (found != flows_.end()) {
    return Napi::Number::New(env, found->second.outPort == outPort ? static_cast<double>(found->second.id) : -1);
  }
  if (flows_.size() >= kMaxFlows) return Napi::Number::New(env, -1);
  Flow flow{nextFlowId_, outPort, nullptr, nullptr};
  auto io = outputs_.find(outPort);
  if (io != outputs_.end()) {
    flow.io = io->second;
  } else {
    auto link = links_.find(outPort);
    if (link == links_.end()) return Napi::Number::New(env, -1);
    flow.link = &link->second;
  }
  nextFlowId_ = nextFlowId_ == UINT32_MAX ? 1 : nextFlowId_ + 1;
  flows_.emplace(key, flow);
  counters_.installs++;
  return Napi::Number::New(env, flow.id);
}

Napi::Value NativeOffload::Flush(const Napi::CallbackInfo& info) {
  FlushAllFlows();
  return info.Env().Undefined();
}

// configure(maxFrameBytes)
Napi::Value NativeOffload::Configure(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) {
    uint32_t max = info[0].As<Napi::Number>().Uint32Value();
    maxFrameBytes_ = max < kEthernetHeaderBytes ? kEthernetHeaderBytes : max;
  }
  return info.Env().Undefined();
}

// poll() → { flows: Float64Array [id, packets, bytes]…, slots: Float64Array
//   [slotId, localIndex, txPackets, txBytes, txAgoMs, rxPackets, rxBytes, rxAgoMs]… } — deltas since the last poll.
Napi::Value NativeOffload::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<double> f;
  for (auto& [key, flow] : flows_) {
    if (flow.packets == 0) continue;
    f.push_back(flow.id);
    f.push_back(flow.packets);
    f.push_back(flow.bytes);
    flow.packets = flow.bytes = 0;
  }
  std::vector<double> s;
  uint64_t now = uv_hrtime();
  for (size_t id = 0; id < slots_.size(); id++) {
    Slot& slot = slots_[id];
    if (!slot.isUsed || (slot.txPackets == 0 && slot.rxPackets == 0)) continue;
    s.push_back(static_cast<double>(id));
    s.push_back(slot.localIndex);
    s.push_back(slot.txPackets);
    s.push_back(slot.txBytes);
    s.push_back(slot.txPackets > 0 ? static_cast<double>(now - slot.lastTx) / 1e6 : -1);
    s.push_back(slot.rxPackets);
    s.push_back(slot.rxBytes);
    s.push_back(slot.rxPackets > 0 ? static_cast<double>(now - slot.lastRx) / 1e6 : -1);
    slot.txPackets = slot.txBytes = slot.rxPackets = slot.rxBytes = 0;
  }
  Napi::Float64Array flowsOut = Napi::Float64Array::New(env, f.size());
  if (!f.empty()) std::memcpy(flowsOut.Data(), f.data(), f.size() * sizeof(double));
  Napi::Float64Array slotsOut = Napi::Float64Array::New(env, s.size());
  if (!s.empty()) std::memcpy(slotsOut.Data(), s.data(), s.size() * sizeof(double));
  Napi::Object result = Napi::Object::New(env);
  result.Set("flows", flowsOut);
  result.Set("slots", slotsOut);
  return result;
}

// counters() → { txHits, txMisses, txPunts, rxHits, rxPunts, installs, flushes, flows, slots, links }
Napi::Value NativeOffload::CountersJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  r.Set("txHits", counters_.txHits);
  r.Set("txMisses", counters_.txMisses);
  r.Set("txPunts", counters_.txPunts);
  r.Set("rxHits", counters_.rxHits);
  r.Set("rxPunts", counters_.rxPunts);
  r.Set("installs", counters_.installs);
  r.Set("flushes", counters_.flushes);
  r.Set("flows", static_cast<double>(flows_.size()));
  r.Set("slots", static_cast<double>(slots_.size() - freeSlots_.size()));
  r.Set("links", static_cast<double>(links_.size()));
  return r;
}

}  // namespace vswitch
