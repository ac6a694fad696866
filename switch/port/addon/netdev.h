// Linux network-device plumbing for the vswitch addon, in plain POSIX: no
// Node-API here. Every function returns a SysResult: err == 0 on success,
// otherwise the errno and the name of the call that failed, so the TS side can
// build a typed error ("<what>: <why> (<device>)").
#pragma once

#include <linux/filter.h>
#include <cstddef>
#include <string>

namespace vswitch {

struct SysResult {
  int err;              // 0 = ok, else an errno value
  const char* syscall;  // the call that failed, e.g. "ioctl(TUNSETIFF)"
};

inline SysResult Ok() { return SysResult{0, nullptr}; }

struct TapOpened {
  int fd = -1;
  int ifindex = 0;
  std::string name;  // the name the kernel gave (same as asked unless a %d pattern)
  unsigned offloads = 0;  // the TUN_F_* bits TUNSETOFFLOAD took (0 without offloads)
};

// Opens /dev/net/tun as IFF_TAP | IFF_NO_PI (non-blocking), creating the device
// or attaching to an existing persistent TAP; sets the MTU when mtuBytes > 0 and
// brings the device up. With create == false a missing device is ENODEV.
// With `offloads`: also IFF_VNET_HDR (every read and write carries a 10-byte virtio_net_hdr, gso.h) and
// TUNSETOFFLOAD with checksum, TSO4 and TSO6 — plus USO4/USO6 where the kernel has them (Linux ≥ 6.2: probed, a
// refusal falls back to TCP only) — so the kernel hands the reader TCP/UDP super-frames with their checksums left
// to complete. Not TSO_ECN: a CWR segment is then cut by the kernel, as wireguard-go asks.
SysResult OpenTap(const std::string& name, int mtuBytes, bool create, bool offloads, TapOpened* out);

struct PacketOpened {
  int fd = -1;
  int ifindex = 0;
};

// Opens a non-blocking AF_PACKET/SOCK_RAW socket bound to one interface, with
// PACKET_IGNORE_OUTGOING (when the kernel has it), optional promiscuous
// membership and optional classic-BPF filter (attached before bind, so no
// unfiltered frame is ever queued). A down interface is ENETDOWN.
SysResult OpenPacket(const std::string& ifname, bool isPromiscuous, const sock_filter* filter,
                     size_t filterLen, int rcvbufBytes, PacketOpened* out);

struct InterfaceInfo {
  int ifindex = 0;  // 0 = no such interface
  bool isUp = false;
  int mtuBytes = 0;
};

// Looks an interface up in the caller's network namespace.
SysResult GetInterfaceInfo(const std::string& name, InterfaceInfo* out);

}  // namespace vswitch
