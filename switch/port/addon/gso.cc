// See gso.h for the design and the rules.
#include "gso.h"

#include <cstring>

namespace vswitch {
namespace gso {
namespace {

/* Specification constants */
constexpr size_t kEthernetHeaderBytes = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;
constexpr size_t kIpv4MinHeaderBytes = 20;
constexpr size_t kIpv6HeaderBytes = 40;
constexpr size_t kTcpMinHeaderBytes = 20;
constexpr size_t kUdpHeaderBytes = 8;
constexpr uint16_t kIpv4FragmentBits = 0x3fff;  // MF and the fragment offset
constexpr uint8_t kIpv4FlagDf = 0x40;           // in the byte at offset 6
constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpAck = 0x10, kTcpCwr = 0x80;
constexpr size_t kTcpFlagsOffset = 13;
constexpr size_t kMaxIpBytes = 65535;
// NOP, NOP, timestamp (kind 8, length 10): the only options a coalesced segment may carry (RFC 7323 appendix A).
constexpr uint8_t kTimestampOptions[4] = {1, 1, 8, 10};

/* Implementation constants */
// Open super-frames a new segment is compared with (newest first): flows of one batch rarely interleave more.
constexpr size_t kSearchGroups = 16;

const char* const kReasonNames[kReasonCount] = {
    "ok", "vnet-short", "vnet-flags", "vnet-gso-type", "vnet-checksum", "vnet-gso-headers", "vnet-gso-size",
};

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void PutBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void PutBe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
void PutLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

bool IsTpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

// The IPv4 header checksum, written in place.
void FillIpv4Checksum(uint8_t* ip, size_t ihl) {
  ip[10] = ip[11] = 0;
  PutBe16(ip + 10, static_cast<uint16_t>(~FoldSum(SumBytes(ip, ihl, 0))));
}

// A segment's own L4 checksum, complete: the field zeroed, then pseudo-header + header + payload.
void FillL4Checksum(uint8_t* frame, const Layout& layout, size_t length, size_t checkOffset) {
  size_t l4Length = length - layout.l4;
  uint8_t* check = frame + layout.l4 + checkOffset;
  check[0] = check[1] = 0;
  uint64_t sum = PseudoHeaderSum(frame, layout, l4Length);
  uint16_t value = static_cast<uint16_t>(~FoldSum(SumBytes(frame + layout.l4, l4Length, sum)));
  if (value == 0 && layout.protocol == kProtocolUdp) value = 0xffff;  // RFC 768: 0 means "no checksum"
  PutBe16(check, value);
}

bool Ipv4HeaderVerifies(const uint8_t* frame, const Layout& layout) {
  return FoldSum(SumBytes(frame + layout.l3, layout.l4 - layout.l3, 0)) == 0xffff;
}

bool L4ChecksumVerifies(const uint8_t* frame, const Layout& layout, size_t length) {
  size_t l4Length = length - layout.l4;
  return FoldSum(SumBytes(frame + layout.l4, l4Length, PseudoHeaderSum(frame, layout, l4Length))) == 0xffff;
}

}  // namespace

const char* ReasonName(uint8_t reason) { return reason < kReasonCount ? kReasonNames[reason] : "unknown"; }

VnetHeader DecodeHeader(const uint8_t* raw) {
  VnetHeader h;
  h.flags = raw[0];
  h.gsoType = raw[1];
  h.hdrLen = Le16(raw + 2);
  h.gsoSize = Le16(raw + 4);
  h.csumStart = Le16(raw + 6);
  h.csumOffset = Le16(raw + 8);
  return h;
}

void EncodeHeader(const VnetHeader& h, uint8_t* raw) {
  raw[0] = h.flags;
  raw[1] = h.gsoType;
  PutLe16(raw + 2, h.hdrLen);
  PutLe16(raw + 4, h.gsoSize);
  PutLe16(raw + 6, h.csumStart);
  PutLe16(raw + 8, h.csumOffset);
}

bool IsZeroHeader(const uint8_t* raw) {
  for (size_t i = 0; i < kVnetHeaderBytes; i++) {
    if (raw[i] != 0) return false;
  }
  return true;
}

uint64_t SumBytes(const uint8_t* data, size_t length, uint64_t sum) {
  // Summed as little-endian words (8 at a time, end-around carry), then swapped: RFC 1071 §2(B), the sum is
  // independent of byte order up to a swap.
  uint64_t le = 0;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    le += w;
    if (le < w) le++;
  }
  for (; i + 2 <= length; i += 2) le += Le16(data + i);
  if (i < length) le += data[i];  // an odd last byte is the high byte of a zero-padded word
  while (le >> 16) le = (le & 0xffff) + (le >> 16);
  uint16_t folded = static_cast<uint16_t>(le);
  return sum + static_cast<uint16_t>((folded >> 8) | (folded << 8));
}

uint16_t FoldSum(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint64_t PseudoHeaderSum(const uint8_t* frame, const Layout& layout, size_t l4Length) {
  // IPv4 (RFC 793 §3.1): source, destination, zero, protocol, length. IPv6 (RFC 8200 §8.1): source,
  // destination, a 32-bit length, zeros, next header.
  uint64_t sum = layout.isIpv6 ? SumBytes(frame + layout.l3 + 8, 32, 0) : SumBytes(frame + layout.l3 + 12, 8, 0);
  return sum + layout.protocol + (l4Length >> 16) + (l4Length & 0xffff);
}

bool ParseLayout(const uint8_t* frame, size_t length, Layout* out) {
  if (length < kEthernetHeaderBytes) return false;
  size_t typeOffset = 12;
  uint16_t etherType = Be16(frame + typeOffset);
  for (int tags = 0; tags < 2 && IsTpid(etherType); tags++) {
    if (length < typeOffset + 4 + 2) return false;
    typeOffset += 4;
    etherType = Be16(frame + typeOffset);
  }
  Layout l;
  l.l3 = typeOffset + 2;
  const uint8_t* ip = frame + l.l3;
  size_t rest = length - l.l3;
  if (etherType == kEtherTypeIpv4) {
    if (rest < kIpv4MinHeaderBytes || (ip[0] >> 4) != 4) return false;
    size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
    if (ihl < kIpv4MinHeaderBytes || ihl > rest || Be16(ip + 2) != rest) return false;
    if ((Be16(ip + 6) & kIpv4FragmentBits) != 0) return false;
    l.protocol = ip[9];
    l.l4 = l.l3 + ihl;
  } else if (etherType == kEtherTypeIpv6) {
    if (rest < kIpv6HeaderBytes || (ip[0] >> 4) != 6 || Be16(ip + 4) != rest - kIpv6HeaderBytes) return false;
    l.isIpv6 = true;
    l.protocol = ip[6];
    l.l4 = l.l3 + kIpv6HeaderBytes;
  } else {
    return false;
  }
  if (l.protocol == kProtocolTcp) {
    if (length < l.l4 + kTcpMinHeaderBytes) return false;
    size_t doff = static_cast<size_t>(frame[l.l4 + 12] >> 4) * 4;
    if (doff < kTcpMinHeaderBytes || length < l.l4 + doff) return false;
    l.headerBytes = l.l4 + doff;
  } else if (l.protocol == kProtocolUdp) {
    if (length < l.l4 + kUdpHeaderBytes) return false;
    l.headerBytes = l.l4 + kUdpHeaderBytes;
  } else {
    return false;
  }
  *out = l;
  return true;
}

Reason CheckHeader(const uint8_t* raw, const uint8_t* frame, size_t length, VnetHeader* out, Layout* layout) {
  VnetHeader h = DecodeHeader(raw);
  if ((h.flags & ~(kFlagNeedsCsum | kFlagDataValid)) != 0) return kVnetFlags;
  uint8_t type = h.gsoType & ~kGsoEcn;
  bool hasEcn = (h.gsoType & kGsoEcn) != 0;
  if (type != kGsoNone && type != kGsoTcpV4 && type != kGsoTcpV6 && type != kGsoUdpL4) return kVnetGsoType;
  if (hasEcn && type != kGsoTcpV4 && type != kGsoTcpV6) return kVnetGsoType;
  bool needsCsum = (h.flags & kFlagNeedsCsum) != 0;
  if (needsCsum && (h.csumStart < kEthernetHeaderBytes ||
                    static_cast<size_t>(h.csumStart) + h.csumOffset + 2 > length)) {
    return kVnetChecksum;
  }
  VnetHeader n;  // normalized: nothing the next reader could misread
  if (type == kGsoNone) {
    if (needsCsum) {
      n.flags = kFlagNeedsCsum;
      n.csumStart = h.csumStart;
      n.csumOffset = h.csumOffset;
      n.hdrLen = static_cast<uint16_t>(h.csumStart + h.csumOffset + 2);
    }
    *out = n;
    return kOk;
  }
  if (!needsCsum) return kVnetGsoHeaders;
  if (length > kMaxSuperFrameBytes) return kVnetGsoSize;
  Layout l;
  if (!ParseLayout(frame, length, &l)) return kVnetGsoHeaders;
  bool isTcp = l.protocol == kProtocolTcp;
  if ((type == kGsoTcpV4 && (l.isIpv6 || !isTcp)) || (type == kGsoTcpV6 && (!l.isIpv6 || !isTcp)) ||
      (type == kGsoUdpL4 && isTcp)) {
    return kVnetGsoHeaders;
  }
  if (h.csumStart != l.l4 || h.csumOffset != (isTcp ? kTcpChecksumOffset : kUdpChecksumOffset)) {
    return kVnetGsoHeaders;
  }
  if (h.gsoSize == 0) return kVnetGsoSize;
  size_t payload = length - l.headerBytes;
  size_t segments = payload == 0 ? 1 : (payload + h.gsoSize - 1) / h.gsoSize;
  if (segments > (isTcp ? kMaxSegments : kMaxUdpSegments)) return kVnetGsoSize;
  n.flags = kFlagNeedsCsum;
  n.gsoType = h.gsoType;
  n.hdrLen = static_cast<uint16_t>(l.headerBytes);
  n.gsoSize = h.gsoSize;
  n.csumStart = h.csumStart;
  n.csumOffset = h.csumOffset;
  *out = n;
  *layout = l;
  return kOk;
}

size_t SegmentCount(const VnetHeader& h, size_t length) {
  if (!h.IsGso() || h.gsoSize == 0 || length <= h.hdrLen) return 1;
  return (length - h.hdrLen + h.gsoSize - 1) / h.gsoSize;
}

size_t WireBytes(const VnetHeader& h, size_t length) { return length + (SegmentCount(h, length) - 1) * h.hdrLen; }

size_t LargestSegmentBytes(const VnetHeader& h, size_t length) {
  if (!h.IsGso() || length <= static_cast<size_t>(h.hdrLen) + h.gsoSize) return length;
  return static_cast<size_t>(h.hdrLen) + h.gsoSize;
}

namespace {

// The one cut both placements share: segment i is written at place(i, bytes of the segments before it).
template <typename Place>
size_t CutSegments(const VnetHeader& h, const Layout& layout, const uint8_t* frame, size_t length, uint32_t* lengths,
                   Place place) {
  if (!h.IsGso()) {
    uint8_t* out = place(0, 0);
    std::memcpy(out, frame, length);
    if ((h.flags & kFlagNeedsCsum) != 0) {
      // CHECKSUM_PARTIAL: the field holds the pseudo-header's sum; the sum from csum_start to the end, inverted,
      // completes it (skb_checksum_help, which sends 0 as 0xFFFF).
      uint8_t* check = out + h.csumStart + h.csumOffset;
      uint16_t value = static_cast<uint16_t>(~FoldSum(SumBytes(out + h.csumStart, length - h.csumStart, 0)));
      PutBe16(check, value == 0 ? 0xffff : value);
    }
    lengths[0] = static_cast<uint32_t>(length);
    return 1;
  }
  size_t headerBytes = h.hdrLen;
  size_t segments = SegmentCount(h, length);
  bool isTcp = layout.protocol == kProtocolTcp;
  size_t ipHeaderBytes = layout.l4 - layout.l3;
  uint16_t firstId = layout.isIpv6 ? 0 : Be16(frame + layout.l3 + 4);
  uint32_t firstSeq = isTcp ? Be32(frame + layout.l4 + 4) : 0;
  size_t payload = length - headerBytes;
  size_t at = 0;
  for (size_t i = 0; i < segments; i++) {
    size_t offset = i * h.gsoSize;
    size_t size = payload - offset < h.gsoSize ? payload - offset : h.gsoSize;
    size_t segmentBytes = headerBytes + size;
    uint8_t* s = place(i, at);
    std::memcpy(s, frame, headerBytes);
    std::memcpy(s + headerBytes, frame + headerBytes + offset, size);
    uint8_t* ip = s + layout.l3;
    size_t ipBytes = segmentBytes - layout.l3;
    if (layout.isIpv6) {
      PutBe16(ip + 4, static_cast<uint16_t>(ipBytes - kIpv6HeaderBytes));
    } else {
      PutBe16(ip + 2, static_cast<uint16_t>(ipBytes));
      PutBe16(ip + 4, static_cast<uint16_t>(firstId + i));
      FillIpv4Checksum(ip, ipHeaderBytes);
    }
    uint8_t* l4 = s + layout.l4;
    if (isTcp) {
      PutBe32(l4 + 4, static_cast<uint32_t>(firstSeq + offset));
      if (i + 1 < segments) l4[kTcpFlagsOffset] &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
      if (i > 0) l4[kTcpFlagsOffset] &= static_cast<uint8_t>(~kTcpCwr);
      FillL4Checksum(s, layout, segmentBytes, kTcpChecksumOffset);
    } else {
      PutBe16(l4 + 4, static_cast<uint16_t>(segmentBytes - layout.l4));
      FillL4Checksum(s, layout, segmentBytes, kUdpChecksumOffset);
    }
    lengths[i] = static_cast<uint32_t>(segmentBytes);
    at += segmentBytes;
  }
  return segments;
}

}  // namespace

size_t Segment(const VnetHeader& h, const Layout& layout, const uint8_t* frame, size_t length, uint8_t* out,
               size_t room, uint32_t* lengths, size_t maxSegments) {
  if (maxSegments == 0) return 0;
  size_t segments = SegmentCount(h, length);
  if (segments > maxSegments || room < WireBytes(h, length)) return 0;
  return CutSegments(h, layout, frame, length, lengths, [out](size_t, size_t at) { return out + at; });
}

size_t SegmentStrided(const VnetHeader& h, const Layout& layout, const uint8_t* frame, size_t length, uint8_t* out,
                      size_t stride, uint32_t* lengths, size_t maxSegments) {
  if (maxSegments == 0 || SegmentCount(h, length) > maxSegments || LargestSegmentBytes(h, length) > stride) return 0;
  return CutSegments(h, layout, frame, length, lengths, [out, stride](size_t i, size_t) { return out + i * stride; });
}

// ---- coalescing ----------------------------------------------------------------------------------

bool Coalescer::IsCandidate(uint32_t index, Layout* layout) const {
  const uint8_t* f = data_[index];
  size_t length = lengths_[index];
  Layout l;
  if (!ParseLayout(f, length, &l) || l.protocol != kProtocolTcp) return false;
  if (!l.isIpv6 && l.l4 - l.l3 != kIpv4MinHeaderBytes) return false;  // IPv4 options
  uint8_t flags = f[l.l4 + kTcpFlagsOffset];
  if (flags != kTcpAck && flags != (kTcpAck | kTcpPsh)) return false;
  size_t tcpHeaderBytes = l.headerBytes - l.l4;
  if (tcpHeaderBytes != kTcpMinHeaderBytes &&
      (tcpHeaderBytes != kTcpMinHeaderBytes + 12 || std::memcmp(f + l.l4 + 20, kTimestampOptions, 4) != 0)) {
    return false;
  }
  if (length == l.headerBytes) return false;  // no payload: an ACK is never glued
  *layout = l;
  return true;
}

bool Coalescer::TryJoin(Group& g, uint32_t index, const Layout& l) {
  const uint8_t* f = data_[index];
  const uint8_t* first = data_[g.first];
  const Layout& gl = g.layout;
  if (!g.isOpen || l.l3 != gl.l3 || l.headerBytes != gl.headerBytes || l.isIpv6 != gl.isIpv6) return false;
  if (std::memcmp(f, first, l.l3) != 0) return false;  // MACs, tags, EtherType
  const uint8_t* ip = f + l.l3;
  const uint8_t* ip0 = first + l.l3;
  if (l.isIpv6) {
    if (std::memcmp(ip, ip0, 4) != 0 || ip[7] != ip0[7] || std::memcmp(ip + 8, ip0 + 8, 32) != 0) return false;
  } else {
    if (ip[1] != ip0[1] || (ip[6] >> 5) != (ip0[6] >> 5) || ip[8] != ip0[8] || std::memcmp(ip + 12, ip0 + 12, 8) != 0) {
      return false;
    }
    bool isDf = (ip[6] & kIpv4FlagDf) != 0;
    if (!isDf && Be16(ip + 4) != static_cast<uint16_t>(Be16(ip0 + 4) + g.count)) return false;
  }
  const uint8_t* tcp = f + l.l4;
  const uint8_t* tcp0 = first + l.l4;
  if (std::memcmp(tcp, tcp0, 4) != 0 || std::memcmp(tcp + 8, tcp0 + 8, 4) != 0 ||  // ports, ack
      std::memcmp(tcp + 14, tcp0 + 14, 2) != 0 ||                                   // window
      std::memcmp(tcp + 20, tcp0 + 20, l.headerBytes - l.l4 - 20) != 0) {           // options
    return false;
  }
  if (Be32(tcp + 4) != g.nextSeq) return false;
  size_t payload = lengths_[index] - l.headerBytes;
  if (payload > g.segmentPayload || g.count + 1 > kMaxSegments) return false;
  if (g.totalBytes + payload - l.l3 > kMaxIpBytes) return false;
  if (!g.isFirstVerified) {
    if (!(gl.isIpv6 || Ipv4HeaderVerifies(first, gl)) || !L4ChecksumVerifies(first, gl, lengths_[g.first])) {
      g.isOpen = false;  // a corrupt first segment goes out alone, as it came
      return false;
    }
    g.isFirstVerified = true;
  }
  if (!(l.isIpv6 || Ipv4HeaderVerifies(f, l)) || !L4ChecksumVerifies(f, l, lengths_[index])) return false;
  next_[g.last] = index;
  g.last = index;
  g.count++;
  g.totalBytes += payload;
  g.nextSeq += static_cast<uint32_t>(payload);
  if ((tcp[kTcpFlagsOffset] & kTcpPsh) != 0) {
    g.hasPsh = true;
    g.isOpen = false;
  }
  if (payload < g.segmentPayload) g.isOpen = false;  // a short segment is the last one
  return true;
}

void Coalescer::Plan(const uint8_t* const* data, const size_t* lengths, size_t count) {
  data_ = data;
  lengths_ = lengths;
  groups_.clear();
  open_.clear();
  next_.assign(count, UINT32_MAX);
  for (uint32_t i = 0; i < count; i++) {
    Layout l;
    if (i < kMaxCoalesceFrames && IsCandidate(i, &l)) {
      bool isJoined = false;
      size_t searched = 0;
      for (size_t k = open_.size(); k > 0 && searched < kSearchGroups; k--, searched++) {
        Group& g = groups_[open_[k - 1]];
        if (!TryJoin(g, i, l)) {
          if (!g.isOpen) open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(k - 1));
          continue;
        }
        if (!g.isOpen) open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(k - 1));
        isJoined = true;
        break;
      }
      if (isJoined) continue;
      Group g;
      g.first = g.last = i;
      g.totalBytes = lengths[i];
      g.layout = l;
      size_t payload = lengths[i] - l.headerBytes;
      g.segmentPayload = static_cast<uint16_t>(payload);
      g.nextSeq = Be32(data[i] + l.l4 + 4) + static_cast<uint32_t>(payload);
      g.hasPsh = (data[i][l.l4 + kTcpFlagsOffset] & kTcpPsh) != 0;
      g.isOpen = !g.hasPsh;
      groups_.push_back(g);
      if (g.isOpen) open_.push_back(static_cast<uint32_t>(groups_.size() - 1));
      continue;
    }
    Group g;
    g.first = g.last = i;
    g.totalBytes = lengths[i];
    groups_.push_back(g);
  }
  for (Group& g : groups_) {
    g.isOpen = false;
    if (g.count < 2) continue;
    g.header.flags = kFlagNeedsCsum;
    g.header.gsoType = g.layout.isIpv6 ? kGsoTcpV6 : kGsoTcpV4;
    g.header.hdrLen = static_cast<uint16_t>(g.layout.headerBytes);
    g.header.gsoSize = g.segmentPayload;
    g.header.csumStart = static_cast<uint16_t>(g.layout.l4);
    g.header.csumOffset = kTcpChecksumOffset;
  }
}

size_t Coalescer::WriteHead(const Group& g, uint8_t* out) const {
  const Layout& l = g.layout;
  std::memcpy(out, data_[g.first], l.headerBytes);
  if (g.count < 2) return l.headerBytes;
  uint8_t* ip = out + l.l3;
  if (l.isIpv6) {
    PutBe16(ip + 4, static_cast<uint16_t>(g.totalBytes - l.l3 - kIpv6HeaderBytes));
  } else {
    PutBe16(ip + 2, static_cast<uint16_t>(g.totalBytes - l.l3));
    FillIpv4Checksum(ip, l.l4 - l.l3);
  }
  uint8_t* tcp = out + l.l4;
  if (g.hasPsh) tcp[kTcpFlagsOffset] |= kTcpPsh;
  // CHECKSUM_PARTIAL: the pseudo-header's sum, folded, not inverted; the receiver adds the rest.
  PutBe16(tcp + kTcpChecksumOffset, FoldSum(PseudoHeaderSum(out, l, g.totalBytes - l.l4)));
  return l.headerBytes;
}

void Coalescer::Flatten(const Group& g, uint8_t* out) const {
  if (g.count < 2) {
    std::memcpy(out, data_[g.first], lengths_[g.first]);
    return;
  }
  size_t at = WriteHead(g, out);
  size_t headerBytes = g.layout.headerBytes;
  for (uint32_t m = g.first;; m = next_[m]) {
    size_t payload = lengths_[m] - headerBytes;
    std::memcpy(out + at, data_[m] + headerBytes, payload);
    at += payload;
    if (m == g.last) break;
  }
}

size_t Coalescer::Gather(const Group& g, const uint8_t* head, size_t headBytes, struct iovec* iov,
                         size_t room) const {
  if (g.count < 2) {
    if (room < 1) return 0;
    iov[0].iov_base = const_cast<uint8_t*>(data_[g.first]);
    iov[0].iov_len = lengths_[g.first];
    return 1;
  }
  if (room < 1 + g.count) return 0;
  iov[0].iov_base = const_cast<uint8_t*>(head);
  iov[0].iov_len = headBytes;
  size_t n = 1;
  size_t headerBytes = g.layout.headerBytes;
  for (uint32_t m = g.first;; m = next_[m]) {
    iov[n].iov_base = const_cast<uint8_t*>(data_[m] + headerBytes);
    iov[n].iov_len = lengths_[m] - headerBytes;
    n++;
    if (m == g.last) break;
  }
  return n;
}

}  // namespace gso
}  // namespace vswitch
