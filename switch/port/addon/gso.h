// Segmentation and coalescing of TCP/UDP super-frames, and the virtio-net header that describes them: plain
// C++ over byte buffers (no Node-API, no I/O), shared by the TAP handles (io-handle.cc), the flow offload
// (offload.cc) and the addon's JS exports (addon.cc: vnetCheck, gsoSegment, gsoCoalesce).
//
// Why. A TAP opened with IFF_VNET_HDR and TUNSETOFFLOAD hands its reader what the VM's stack sent before any
// segmentation: one TCP "super-frame" of up to 64 KiB with a virtio_net_hdr in front saying how to cut it
// (gso_type, gso_size) and which checksum is left to complete (NEEDS_CSUM: csum_start, csum_offset). Moving
// one of those costs what one MTU-sized frame cost; the cut is made only where something needs wire frames
// (a port without offloads, a link). The other way, consecutive TCP segments of one flow that arrive as wire
// frames are glued back into one super-frame for one TAP write. This is what the kernel's GSO/GRO do, and
// what wireguard-go's tun/offload_linux.go does in userspace; the rules here follow the kernel's
// (net/ipv4/tcp_offload.c tcp_gso_segment and tcp_gro_receive, net/ipv4/af_inet.c inet_gso_segment).
//
// The header is never trusted (a VM writes it): CheckHeader validates it against the frame it came with and
// returns a fixed Reason, and normalizes it (hdr_len = the real header length, flags = NEEDS_CSUM only, no
// DATA_VALID passed on). Everything is bounded: kMaxSuperFrameBytes, kMaxSegments, kMaxCoalesceFrames.
//
// Segment(header, frame) → wire frames, as tcp_gso_segment/__udp_gso_segment make them:
//   every segment gets the headers of the super-frame, then IPv4: total length, id + i, header checksum;
//   IPv6: payload length; TCP: sequence number + i × gso_size, FIN and PSH only on the last segment, CWR only
//   on the first, the checksum complete (pseudo-header included); UDP: length and complete checksum (0 sent
//   as 0xFFFF). A frame with NEEDS_CSUM and no GSO is one segment with its checksum completed.
// Coalescer: a batch of wire frames → outputs in the order of each output's first frame; an output is either a
//   frame as it came (header all zero) or a super-frame of consecutive TCP segments of one flow with its header
//   (GSO TCPV4/TCPV6, NEEDS_CSUM, the TCP checksum field holding the pseudo-header sum, as the kernel's
//   CHECKSUM_PARTIAL wants). A segment joins a flow's open super-frame only when (else it starts its own):
//     - same bytes before the IP header (MACs, 802.1Q tags, EtherType), same IP addresses, ports, ack number;
//     - IPv4 without options and not a fragment, same TOS, DF and TTL, id = the first's id + its position (or
//       DF set); IPv6 with TCP as the next header (no extension header), same first word and hop limit;
//     - TCP flags ACK or ACK|PSH only, same header length, options none or timestamps only (equal), same window;
//     - its sequence number follows the super-frame's last byte, it has payload, no larger than the first's,
//       and the super-frame's last segment was full-sized and had no PSH (PSH ends a super-frame);
//     - its IPv4 header and TCP checksums verify (a super-frame's checksum is completed by the receiver, so a
//       corrupt segment must never be glued in), and the super-frame stays within 65535 bytes of IP.
//   So coalesce(segment(x)) == x for a TCP super-frame x without FIN or CWR and with more than one segment.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vswitch {
namespace gso {

/* Specification constants (include/uapi/linux/virtio_net.h, struct virtio_net_hdr, little-endian) */
constexpr size_t kVnetHeaderBytes = 10;
constexpr uint8_t kFlagNeedsCsum = 1;
constexpr uint8_t kFlagDataValid = 2;
constexpr uint8_t kGsoNone = 0;
constexpr uint8_t kGsoTcpV4 = 1;
constexpr uint8_t kGsoTcpV6 = 4;
constexpr uint8_t kGsoUdpL4 = 5;
constexpr uint8_t kGsoEcn = 0x80;
constexpr size_t kTcpChecksumOffset = 16;
constexpr size_t kUdpChecksumOffset = 6;
// include/linux/udp.h UDP_MAX_SEGMENTS: the kernel refuses a USO frame of more.
constexpr size_t kMaxUdpSegments = 128;

/* Implementation constants */
// An IP packet of 65535 bytes behind Ethernet and two VLAN tags.
constexpr size_t kMaxSuperFrameBytes = 65535 + 14 + 8;
// Segments one super-frame may be cut into (a 64 KiB TCP super-frame at an MSS of 88 bytes makes 745).
constexpr size_t kMaxSegments = 1024;
// Ethernet + 2 tags + IPv6 (IPv4 with options is at most 60) + TCP with options.
constexpr size_t kMaxHeaderBytes = 22 + 60 + 60;
// Room Segment needs at most: the payload once, the headers once per segment.
constexpr size_t kSegmentRoomBytes = kMaxSuperFrameBytes + kMaxSegments * kMaxHeaderBytes;
// Frames one Coalescer plan takes at most (the rest of a larger batch is planned as plain frames).
constexpr size_t kMaxCoalesceFrames = 4096;

// Why a virtio-net header was refused; the names (ReasonName) are the drop reasons counted for it.
enum Reason : uint8_t {
  kOk = 0,
  kVnetShort,        // "vnet-short": the read is shorter than the header
  kVnetFlags,        // "vnet-flags": flag bits other than NEEDS_CSUM and DATA_VALID
  kVnetGsoType,      // "vnet-gso-type": not NONE, TCPV4, TCPV6 or UDP_L4 (UFO, or ECN on UDP)
  kVnetChecksum,     // "vnet-checksum": csum_start/csum_offset outside the frame
  kVnetGsoHeaders,   // "vnet-gso-headers": the frame is not what the GSO type says (or no NEEDS_CSUM)
  kVnetGsoSize,      // "vnet-gso-size": gso_size 0, too many segments, the frame too long
  kReasonCount,
};

const char* ReasonName(uint8_t reason);

// A decoded (and, after CheckHeader, validated and normalized) virtio_net_hdr.
struct VnetHeader {
  uint8_t flags = 0;
  uint8_t gsoType = kGsoNone;  // with kGsoEcn possibly set
  uint16_t hdrLen = 0;
  uint16_t gsoSize = 0;
  uint16_t csumStart = 0;
  uint16_t csumOffset = 0;

  bool IsGso() const { return (gsoType & ~kGsoEcn) != kGsoNone; }
  // Something to do before the frame can go to a port without offloads: a cut or a checksum.
  bool HasWork() const { return IsGso() || (flags & kFlagNeedsCsum) != 0; }
};

VnetHeader DecodeHeader(const uint8_t* raw);
void EncodeHeader(const VnetHeader& h, uint8_t* raw);
// All ten bytes zero: a frame with nothing pending.
bool IsZeroHeader(const uint8_t* raw);

// Where the headers of an IP frame inside Ethernet are.
struct Layout {
  size_t l3 = 0;           // the IP header (after Ethernet and up to two tags)
  size_t l4 = 0;           // the TCP/UDP header
  size_t headerBytes = 0;  // the payload (the end of the TCP/UDP header)
  bool isIpv6 = false;
  uint8_t protocol = 0;    // 6 TCP, 17 UDP
};

// Ethernet (≤ 2 tags), IPv4 (options allowed, not a fragment) or IPv6 (no extension header), then a TCP or UDP
// header, the IP length being exactly the rest of the frame. false when any of it does not hold.
bool ParseLayout(const uint8_t* frame, size_t length, Layout* out);

// Validates `raw` against the frame it came with; fills `out` with the normalized header (and `layout`, for a
// GSO frame). kOk, or the reason to drop the frame.
Reason CheckHeader(const uint8_t* raw, const uint8_t* frame, size_t length, VnetHeader* out, Layout* layout);

// Wire frames and bytes a (validated) frame stands for: the segments it would be cut into.
size_t SegmentCount(const VnetHeader& h, size_t length);
size_t WireBytes(const VnetHeader& h, size_t length);
// The largest wire frame it stands for (what a maxFrameBytes check applies to).
size_t LargestSegmentBytes(const VnetHeader& h, size_t length);

// One's complement sum (RFC 1071) of `length` bytes, not folded, on top of `sum`.
uint64_t SumBytes(const uint8_t* data, size_t length, uint64_t sum);
// Folded to 16 bits (not inverted), in network byte order value.
uint16_t FoldSum(uint64_t sum);
// The IPv4/IPv6 pseudo-header's sum for an L4 segment of `l4Length` bytes.
uint64_t PseudoHeaderSum(const uint8_t* frame, const Layout& layout, size_t l4Length);

// Cuts a validated frame (CheckHeader kOk) into wire frames packed back to back into `out` (room: at most
// kSegmentRoomBytes needed; WireBytes exactly); lengths[i] = segment i's length. Returns how many, or 0 when
// `room` or `maxSegments` is too small.
size_t Segment(const VnetHeader& h, const Layout& layout, const uint8_t* frame, size_t length, uint8_t* out,
               size_t room, uint32_t* lengths, size_t maxSegments);
// The same cut with segment i at out + i × stride (each in its own slot: a link's seal slots, so a segment is cut
// straight where it is sealed). 0 when a segment would not fit `stride`, or there are more than maxSegments.
size_t SegmentStrided(const VnetHeader& h, const Layout& layout, const uint8_t* frame, size_t length, uint8_t* out,
                      size_t stride, uint32_t* lengths, size_t maxSegments);

// One output of a Coalescer plan.
struct Group {
  uint32_t first = 0;   // the frame whose headers lead
  uint32_t last = 0;    // the last frame merged (next() links first → … → last)
  uint32_t count = 1;   // frames merged
  size_t totalBytes = 0;
  VnetHeader header;    // all zero when count == 1: the frame as it came
  // Flow state while the group is open.
  Layout layout;
  uint32_t nextSeq = 0;
  uint16_t segmentPayload = 0;  // the first's payload: the super-frame's gso_size
  bool isOpen = false;
  bool isFirstVerified = false;
  bool hasPsh = false;
};

class Coalescer {
 public:
  // Plans `count` frames (data[i], lengths[i]); groups() are the outputs, in the order of their first frames.
  void Plan(const uint8_t* const* data, const size_t* lengths, size_t count);
  const std::vector<Group>& groups() const { return groups_; }
  uint32_t next(uint32_t frame) const { return next_[frame]; }
  // Group g's headers as its output starts (rewritten for a super-frame; the first frame's own otherwise) into
  // `out` (room for kMaxHeaderBytes); returns their length. What follows them: the payloads (for a
  // super-frame, of every member after the headers; for a single frame, the rest of it).
  size_t WriteHead(const Group& g, uint8_t* out) const;
  // Group g as one buffer (g.totalBytes).
  void Flatten(const Group& g, uint8_t* out) const;
  // Group g as iovecs after `head` (WriteHead's bytes): returns how many were set, at most `room` (0: no room).
  size_t Gather(const Group& g, const uint8_t* head, size_t headBytes, struct iovec* iov, size_t room) const;

 private:
  bool TryJoin(Group& g, uint32_t index, const Layout& layout);
  bool IsCandidate(uint32_t index, Layout* layout) const;

  const uint8_t* const* data_ = nullptr;
  const size_t* lengths_ = nullptr;
  std::vector<Group> groups_;
  std::vector<uint32_t> next_;
  std::vector<uint32_t> open_;  // indexes into groups_ of open TCP groups, oldest first
};

}  // namespace gso
}  // namespace vswitch
