// See offload.h for the design.
#include "offload.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstring>
#include <unordered_map>
#include <vector>

#include "aead.h"
#include "napi-args.h"
#include "io-handle.h"
#include "udp-handle.h"

namespace vswitch {
namespace offload {
namespace {

/* Specification constants (WireGuard whitepaper §5.4.6, link-payload.ts) */
constexpr uint8_t kMessageTransport = 4;
constexpr size_t kTransportHeaderBytes = 16;
constexpr size_t kTagBytes = 16;
// Reject-After-Messages = 2^64 − 2^13 − 1.
constexpr uint64_t kRejectAfterMessages = 0xFFFFFFFFFFFFDFFFull;
constexpr uint8_t kPayloadEthernet = 0x01;
constexpr size_t kPayloadHeaderBytes = 3;

/* Implementation constants */
// The replay ring of replay.ts: 256 blocks of 32 bits, usable window 255 × 32.
constexpr uint32_t kRingBlocks = 256;
constexpr uint64_t kReplayWindow = (kRingBlocks - 1) * 32;
// Sends at or above 2^53 are refused, as device.ts SEND_COUNTER_LIMIT.
constexpr uint64_t kSendCounterLimit = (1ull << 53) - 1;
// Sealed messages wait here until the end of the read batch (larger frames go through JS).
constexpr size_t kSealSlots = 128;
constexpr size_t kSealSlotBytes = 2048;
constexpr size_t kMaxFlows = 65536;
constexpr size_t kEthernetHeaderBytes = 14;
constexpr uint64_t kNever = UINT64_MAX;

enum Verdict : int32_t { kOk = 0, kReplayed = 1, kOutOfWindow = 2, kCounterLimit = 3 };

struct Replay {
  uint32_t ring[kRingBlocks];
  uint64_t last;
};

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

struct Slot {
  bool isUsed = false;
  uint8_t sendKey[32];
  uint8_t receiveKey[32];
  uint32_t localIndex = 0;
  uint32_t remoteIndex = 0;
  uint64_t sendCounter = 0;
  Replay replay;
  uint64_t rejectAt = kNever;   // Reject-After-Time
  uint64_t txRekeyAt = kNever;  // initiator: Rekey-After-Time (JS starts the rekey on its next send)
  uint64_t rxRekeyAt = kNever;  // initiator: the last-minute rekey on receive
  int32_t linkId = -1;          // the link it may be opened for on the fast path, else -1
  // Fast-path traffic since the last poll.
  double txPackets = 0, txBytes = 0, rxPackets = 0, rxBytes = 0;
  uint64_t lastTx = 0, lastRx = 0;
};

struct Link {
  UdpHandle* udp = nullptr;
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

std::vector<Slot> slots;
std::vector<int32_t> freeSlots;
std::unordered_map<uint32_t, int32_t> slotByIndex;
std::unordered_map<int32_t, Link> links;
std::unordered_map<int32_t, IoHandle*> outputs;
std::unordered_map<FlowKey, Flow, FlowKeyHash> flows;
std::vector<Link*> dirtyLinks;
uint32_t nextFlowId = 1;
size_t maxFrameBytes = 1518;

uint8_t sealScratch[kSealSlots][kSealSlotBytes];
size_t sealUsed = 0;
uint8_t openScratch[65536];

struct Counters {
  double txHits = 0, txMisses = 0, txPunts = 0, rxHits = 0, rxPunts = 0, installs = 0, flushes = 0;
} counters;

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

// ethernet.ts inspectFrame, as a yes/no: a frame the core would not drop, with its MACs.
bool ParseFrame(const uint8_t* f, size_t length, uint64_t* src, uint64_t* dst) {
  if (length < kEthernetHeaderBytes || length > maxFrameBytes) return false;
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

Slot* UsableSlot(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= slots.size() || !slots[id].isUsed) return nullptr;
  return &slots[id];
}

// Sends a frame out of a flow; false when it must go through JS instead (nothing was sent).
bool Output(Flow& flow, const uint8_t* frame, size_t length, uint64_t now) {
  if (flow.io != nullptr) {
    flow.io->WriteOne(frame, length);
  } else {
    Link* link = flow.link;
    Slot* slot = UsableSlot(link->txSlot);
    if (slot == nullptr || link->udp == nullptr || now >= slot->rejectAt || now >= slot->txRekeyAt ||
        slot->sendCounter >= kSendCounterLimit) {
      return false;
    }
    size_t payload = kPayloadHeaderBytes + length;
    size_t pad = (16 - payload % 16) % 16;
    size_t total = kTransportHeaderBytes + payload + pad + kTagBytes;
    if (total > kSealSlotBytes) return false;
    if (sealUsed == kSealSlots) FlushSends();
    uint8_t* out = sealScratch[sealUsed];
    uint64_t counter = slot->sendCounter;
    out[0] = kMessageTransport;
    out[1] = out[2] = out[3] = 0;
    WriteLe32(out + 4, slot->remoteIndex);
    WriteLe64(out + 8, counter);
    uint8_t* plain = out + kTransportHeaderBytes;
    plain[0] = kPayloadEthernet;
    plain[1] = static_cast<uint8_t>(length >> 8);
    plain[2] = static_cast<uint8_t>(length & 0xff);
    std::memcpy(plain + kPayloadHeaderBytes, frame, length);
    std::memset(plain + payload, 0, pad);
    if (!SealInPlace(slot->sendKey, counter, plain, payload + pad)) return false;
    slot->sendCounter = counter + 1;
    sealUsed++;
    slot->txPackets++;
    slot->txBytes += static_cast<double>(payload);  // device.ts counts the plaintext before padding
    slot->lastTx = now;
    if (link->pending.empty()) dirtyLinks.push_back(link);
    link->pending.push_back({out, total});
  }
  flow.packets++;
  flow.bytes += static_cast<double>(length);
  return true;
}

Flow* FindFlow(int32_t inPort, const uint8_t* frame, size_t length) {
  uint64_t src, dst;
  if (!ParseFrame(frame, length, &src, &dst) || (frame[0] & 1) != 0) return nullptr;
  auto it = flows.find(FlowKey{inPort, src, dst});
  return it == flows.end() ? nullptr : &it->second;
}

void FlushAllFlows() {
  if (!flows.empty()) flows.clear();
  counters.flushes++;
}

void UnbindSlots(Link& link) {
  for (int32_t id : link.rxSlots) {
    if (Slot* s = UsableSlot(id)) s->linkId = -1;
  }
  link.rxSlots[0] = link.rxSlots[1] = -1;
}

// ---- Node-API ----------------------------------------------------------------------------------

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

// slotCreate(sendKey, receiveKey, localIndex, remoteIndex, rejectInMs, txRekeyInMs, rxRekeyInMs) → id | -1
napi_value SlotCreate(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *sendKey, *receiveKey;
  size_t sendLen, receiveLen;
  if (argc < 7 || !Bytes(env, argv[0], &sendKey, &sendLen) || !Bytes(env, argv[1], &receiveKey, &receiveLen) ||
      sendLen != 32 || receiveLen != 32) {
    return Num(env, -1);
  }
  int32_t id;
  if (!freeSlots.empty()) {
    id = freeSlots.back();
    freeSlots.pop_back();
  } else {
    id = static_cast<int32_t>(slots.size());
    slots.emplace_back();
  }
  Slot& s = slots[id];
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
  slotByIndex[s.localIndex] = id;
  return Num(env, id);
}

// slotFree(id) → [txPackets, txBytes, rxPackets, rxBytes] not yet polled; keys zeroed, id reusable.
napi_value SlotFree(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_value result;
  napi_create_array_with_length(env, 4, &result);
  int32_t id = argc < 1 ? -1 : I32(env, argv[0]);
  Slot* s = UsableSlot(id);
  if (s == nullptr) return result;
  double left[4] = {s->txPackets, s->txBytes, s->rxPackets, s->rxBytes};
  for (uint32_t i = 0; i < 4; i++) napi_set_element(env, result, i, Num(env, left[i]));
  auto it = slotByIndex.find(s->localIndex);
  if (it != slotByIndex.end() && it->second == id) slotByIndex.erase(it);
  for (auto& [linkId, link] : links) {
    if (link.txSlot == id) link.txSlot = -1;
    for (int32_t& rx : link.rxSlots) {
      if (rx == id) rx = -1;
    }
  }
  std::memset(s->sendKey, 0, 32);
  std::memset(s->receiveKey, 0, 32);
  s->isUsed = false;
  s->linkId = -1;
  freeSlots.push_back(id);
  return result;
}

// slotSeal(id, plaintext, out, padBytes) → the counter used, or -1 (out must be 32 + plaintext + pad bytes).
napi_value SlotSeal(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 4) return Num(env, -1);
  Slot* s = UsableSlot(I32(env, argv[0]));
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
  if (!SealInPlace(s->sendKey, counter, out + kTransportHeaderBytes, ptLen + pad)) return Num(env, -1);
  s->sendCounter = counter + 1;
  return Num(env, static_cast<double>(counter));
}

// slotOpen(id, lo, hi, box, out) → boolean (the replay window is NOT touched)
napi_value SlotOpen(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_value result;
  napi_get_boolean(env, false, &result);
  if (argc < 5) return result;
  Slot* s = UsableSlot(I32(env, argv[0]));
  uint8_t *box, *out;
  size_t boxLen, outLen;
  if (s == nullptr || !Bytes(env, argv[3], &box, &boxLen) || !Bytes(env, argv[4], &out, &outLen)) return result;
  if (boxLen < kTagBytes || outLen < boxLen - kTagBytes) return result;
  uint64_t counter = (static_cast<uint64_t>(U32(env, argv[2])) << 32) | U32(env, argv[1]);
  if (OpenTo(s->receiveKey, counter, box, boxLen, out)) napi_get_boolean(env, true, &result);
  return result;
}

// slotReplay(id, lo, hi) → 0 ok (recorded) | 1 replayed | 2 out of window | 3 counter limit
napi_value SlotReplay(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) return Num(env, kCounterLimit);
  Slot* s = UsableSlot(I32(env, argv[0]));
  if (s == nullptr) return Num(env, kCounterLimit);
  uint64_t counter = (static_cast<uint64_t>(U32(env, argv[2])) << 32) | U32(env, argv[1]);
  bool commit = true;
  if (argc > 3) napi_get_value_bool(env, argv[3], &commit);
  return Num(env, CheckReplay(s->replay, counter, commit));
}

// slotSendCounter(id) → the next counter to send
napi_value SlotSendCounter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Slot* s = argc < 1 ? nullptr : UsableSlot(I32(env, argv[0]));
  return Num(env, s == nullptr ? static_cast<double>(kSendCounterLimit) : static_cast<double>(s->sendCounter));
}

// offloadLinkSet(linkId, udpHandle, sockaddr, txSlot, rxSlotA, rxSlotB)
Napi::Value LinkSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsObject() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "offloadLinkSet(linkId, udpHandle, sockaddr, txSlot, rxSlotA, rxSlotB)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int32_t linkId = info[0].As<Napi::Number>().Int32Value();
  UdpHandle* udp = UdpHandle::Unwrap(info[1].As<Napi::Object>());  // checked by type tag: else a TypeError
  if (udp == nullptr) return env.Undefined();
  Napi::Uint8Array sockaddr = info[2].As<Napi::Uint8Array>();
  if (sockaddr.TypedArrayType() != napi_uint8_array || sockaddr.ByteLength() > sizeof(struct sockaddr_storage) ||
      sockaddr.ByteLength() < 2) {
    Napi::TypeError::New(env, "offloadLinkSet: not a sockaddr (UdpHandle.resolve)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Link& link = links[linkId];
  UnbindSlots(link);
  link.udp = udp;
  std::memset(&link.addr, 0, sizeof(link.addr));
  std::memcpy(&link.addr, sockaddr.Data(), sockaddr.ByteLength());
  link.addrLen = static_cast<socklen_t>(sockaddr.ByteLength());
  EndpointWords(link.addr, link.words);
  link.txSlot = info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : -1;
  if (UsableSlot(link.txSlot) == nullptr) link.txSlot = -1;
  for (int i = 0; i < 2; i++) {
    int32_t id = info[4 + i].IsNumber() ? info[4 + i].As<Napi::Number>().Int32Value() : -1;
    Slot* s = UsableSlot(id);
    if (s == nullptr) continue;
    s->linkId = linkId;
    link.rxSlots[i] = id;
  }
  return env.Undefined();
}

// offloadLinkRemove(linkId): its flows go too (all flows are flushed).
Napi::Value LinkRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
  auto it = links.find(info[0].As<Napi::Number>().Int32Value());
  if (it == links.end()) return env.Undefined();
  UnbindSlots(it->second);
  FlushAllFlows();
  links.erase(it);
  return env.Undefined();
}

// offloadFlowInstall(inPort, srcMac, dstMac, outPort) → flow id, or -1 when the out-port has no native output.
Napi::Value FlowInstall(const Napi::CallbackInfo& info) {
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
  auto found = flows.find(key);
  if (found != flows.end()) {
    return Napi::Number::New(env, found->second.outPort == outPort ? static_cast<double>(found->second.id) : -1);
  }
  if (flows.size() >= kMaxFlows) return Napi::Number::New(env, -1);
  Flow flow{nextFlowId, outPort, nullptr, nullptr};
  auto io = outputs.find(outPort);
  if (io != outputs.end()) {
    flow.io = io->second;
  } else {
    auto link = links.find(outPort);
    if (link == links.end()) return Napi::Number::New(env, -1);
    flow.link = &link->second;
  }
  nextFlowId = nextFlowId == UINT32_MAX ? 1 : nextFlowId + 1;
  flows.emplace(key, flow);
  counters.installs++;
  return Napi::Number::New(env, flow.id);
}

Napi::Value Flush(const Napi::CallbackInfo& info) {
  FlushAllFlows();
  return info.Env().Undefined();
}

// offloadConfigure(maxFrameBytes)
Napi::Value Configure(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) {
    uint32_t max = info[0].As<Napi::Number>().Uint32Value();
    maxFrameBytes = max < kEthernetHeaderBytes ? kEthernetHeaderBytes : max;
  }
  return info.Env().Undefined();
}

// offloadPoll() → { flows: Float64Array [id, packets, bytes]…, slots: Float64Array
//   [slotId, localIndex, txPackets, txBytes, txAgoMs, rxPackets, rxBytes, rxAgoMs]… } — deltas since the last poll.
Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<double> f;
  for (auto& [key, flow] : flows) {
    if (flow.packets == 0) continue;
    f.push_back(flow.id);
    f.push_back(flow.packets);
    f.push_back(flow.bytes);
    flow.packets = flow.bytes = 0;
  }
  std::vector<double> s;
  uint64_t now = uv_hrtime();
  for (size_t id = 0; id < slots.size(); id++) {
    Slot& slot = slots[id];
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

// offloadCounters() → { txHits, txMisses, txPunts, rxHits, rxPunts, installs, flushes, flows, slots, links }
Napi::Value CountersJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  r.Set("txHits", counters.txHits);
  r.Set("txMisses", counters.txMisses);
  r.Set("txPunts", counters.txPunts);
  r.Set("rxHits", counters.rxHits);
  r.Set("rxPunts", counters.rxPunts);
  r.Set("installs", counters.installs);
  r.Set("flushes", counters.flushes);
  r.Set("flows", static_cast<double>(flows.size()));
  r.Set("slots", static_cast<double>(slots.size() - freeSlots.size()));
  r.Set("links", static_cast<double>(links.size()));
  return r;
}

}  // namespace

bool TakeFrame(int32_t inPort, uint8_t* frame, size_t length) {
  if (flows.empty()) {
    counters.txMisses++;
    return false;
  }
  Flow* flow = FindFlow(inPort, frame, length);
  if (flow == nullptr) {
    counters.txMisses++;
    return false;
  }
  if (!Output(*flow, frame, length, uv_hrtime())) {
    counters.txPunts++;
    return false;
  }
  counters.txHits++;
  return true;
}

bool TakeDatagram(UdpHandle* udp, const uint8_t* message, size_t length, const uint32_t* addr) {
  if (slotByIndex.empty() || flows.empty()) return false;
  if (length < kTransportHeaderBytes + kTagBytes || message[0] != kMessageTransport || message[1] != 0 ||
      message[2] != 0 || message[3] != 0) {
    return false;
  }
  auto found = slotByIndex.find(ReadLe32(message + 4));
  if (found == slotByIndex.end()) return false;
  Slot& slot = slots[found->second];
  if (!slot.isUsed) return false;
  size_t plainLength = length - kTransportHeaderBytes - kTagBytes;
  auto linkIt = slot.linkId < 0 ? links.end() : links.find(slot.linkId);
  uint64_t counter = ReadLe64(message + 8);
  uint64_t now = uv_hrtime();
  if (linkIt == links.end() || linkIt->second.udp != udp || now >= slot.rejectAt || now >= slot.rxRekeyAt ||
      plainLength < kPayloadHeaderBytes + kEthernetHeaderBytes || plainLength > sizeof(openScratch) ||
      std::memcmp(addr, linkIt->second.words, sizeof(linkIt->second.words)) != 0 ||
      CheckReplay(slot.replay, counter, false) != kOk) {
    counters.rxPunts++;
    return false;
  }
  if (!OpenTo(slot.receiveKey, counter, message + kTransportHeaderBytes, length - kTransportHeaderBytes, openScratch) ||
      openScratch[0] != kPayloadEthernet) {
    counters.rxPunts++;
    return false;
  }
  size_t frameLength = (static_cast<size_t>(openScratch[1]) << 8) | openScratch[2];
  const uint8_t* frame = openScratch + kPayloadHeaderBytes;
  Flow* flow = kPayloadHeaderBytes + frameLength > plainLength ? nullptr : FindFlow(slot.linkId, frame, frameLength);
  if (flow == nullptr || !Output(*flow, frame, frameLength, now)) {
    counters.rxPunts++;
    return false;
  }
  CheckReplay(slot.replay, counter, true);
  slot.rxPackets++;
  slot.rxBytes += static_cast<double>(plainLength);  // device.ts counts the opened plaintext, padding included
  slot.lastRx = now;
  counters.rxHits++;
  return true;
}

void FlushSends() {
  for (Link* link : dirtyLinks) {
    if (link->udp != nullptr && !link->pending.empty()) {
      link->udp->SendDatagrams(link->pending.data(), static_cast<uint32_t>(link->pending.size()),
                               reinterpret_cast<struct sockaddr*>(&link->addr), link->addrLen);
    }
    link->pending.clear();
  }
  dirtyLinks.clear();
  sealUsed = 0;
}

void ForgetIo(IoHandle* io) {
  bool isKnown = false;
  for (auto it = outputs.begin(); it != outputs.end();) {
    if (it->second == io) {
      it = outputs.erase(it);
      isKnown = true;
    } else {
      ++it;
    }
  }
  if (isKnown) FlushAllFlows();
}

void ForgetUdp(UdpHandle* udp) {
  FlushSends();
  bool isKnown = false;
  for (auto it = links.begin(); it != links.end();) {
    if (it->second.udp == udp) {
      UnbindSlots(it->second);
      it = links.erase(it);
      isKnown = true;
    } else {
      ++it;
    }
  }
  if (isKnown) FlushAllFlows();
}

void SetPortOutput(int32_t portId, IoHandle* io) {
  auto it = outputs.find(portId);
  if (it != outputs.end() && it->second == io) return;
  // The port had another handle: its flows write to that one (which may be closed and freed next).
  if (it != outputs.end()) FlushAllFlows();
  outputs[portId] = io;
}

void ClearPortOutput(int32_t portId, IoHandle* io) {
  auto it = outputs.find(portId);
  if (it == outputs.end() || it->second != io) return;  // the id went to another handle since
  outputs.erase(it);
  FlushAllFlows();
}

void Define(Napi::Env env, Napi::Object exports) {
  struct Raw {
    const char* name;
    napi_callback cb;
  };
  const Raw raws[] = {{"slotCreate", SlotCreate}, {"slotFree", SlotFree},   {"slotSeal", SlotSeal},
                      {"slotOpen", SlotOpen},     {"slotReplay", SlotReplay}, {"slotSendCounter", SlotSendCounter}};
  for (const Raw& r : raws) {
    napi_value fn;
    napi_create_function(env, r.name, NAPI_AUTO_LENGTH, r.cb, nullptr, &fn);
    exports.Set(r.name, Napi::Value(env, fn));
  }
  exports.Set("offloadLinkSet", Napi::Function::New<LinkSet>(env, "offloadLinkSet"));
  exports.Set("offloadLinkRemove", Napi::Function::New<LinkRemove>(env, "offloadLinkRemove"));
  exports.Set("offloadFlowInstall", Napi::Function::New<FlowInstall>(env, "offloadFlowInstall"));
  exports.Set("offloadFlush", Napi::Function::New<Flush>(env, "offloadFlush"));
  exports.Set("offloadConfigure", Napi::Function::New<Configure>(env, "offloadConfigure"));
  exports.Set("offloadPoll", Napi::Function::New<Poll>(env, "offloadPoll"));
  exports.Set("offloadCounters", Napi::Function::New<CountersJs>(env, "offloadCounters"));
}

}  // namespace offload
}  // namespace vswitch
