// See netdev.h. The sequence for a TAP follows the kernel's
// Documentation/networking/tuntap.rst; the packet socket follows packet(7).
#include "netdev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23  // Linux >= 4.20
#endif
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20  // Linux >= 6.2
#define TUN_F_USO6 0x40
#endif

namespace vswitch {
namespace {

SysResult Fail(const char* syscall) { return SysResult{errno, syscall}; }

// Fills ifr_name; names must fit IFNAMSIZ including the NUL.
bool SetName(struct ifreq* ifr, const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memset(ifr, 0, sizeof(*ifr));
  std::memcpy(ifr->ifr_name, name.data(), name.size());
  return true;
}

// An AF_INET datagram socket is the handle netdevice(7) ioctls go through.
class ControlSocket {
 public:
  ControlSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~ControlSocket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

SysResult BringUp(int ctl, const std::string& name, int mtuBytes, int* ifindex) {
  struct ifreq ifr;
  SetName(&ifr, name);
  if (mtuBytes > 0) {
    ifr.ifr_mtu = mtuBytes;
    if (ioctl(ctl, SIOCSIFMTU, &ifr) < 0) return Fail("ioctl(SIOCSIFMTU)");
  }
  SetName(&ifr, name);
  if (ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0) return Fail("ioctl(SIOCGIFFLAGS)");
  if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(ctl, SIOCSIFFLAGS, &ifr) < 0) return Fail("ioctl(SIOCSIFFLAGS)");
  }
  SetName(&ifr, name);
  if (ioctl(ctl, SIOCGIFINDEX, &ifr) < 0) return Fail("ioctl(SIOCGIFINDEX)");
  *ifindex = ifr.ifr_ifindex;
  return Ok();
}

}  // namespace

// The virtio_net_hdr gso.h reads and writes (kVnetHeaderBytes), and the offloads asked for.
SysResult SetOffloads(int fd, unsigned* offloads) {
  int headerBytes = 10;
  if (ioctl(fd, TUNSETVNETHDRSZ, &headerBytes) < 0) return Fail("ioctl(TUNSETVNETHDRSZ)");
  unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  unsigned all = tcp | TUN_F_USO4 | TUN_F_USO6;
  if (ioctl(fd, TUNSETOFFLOAD, all) == 0) {
    *offloads = all;
    return Ok();
  }
  if (errno != EINVAL) return Fail("ioctl(TUNSETOFFLOAD)");
  if (ioctl(fd, TUNSETOFFLOAD, tcp) < 0) return Fail("ioctl(TUNSETOFFLOAD)");
  *offloads = tcp;
  return Ok();
}

SysResult OpenTap(const std::string& name, int mtuBytes, bool create, bool offloads, TapOpened* out) {
  struct ifreq ifr;
  if (!SetName(&ifr, name)) return SysResult{EINVAL, "ifname"};
  ControlSocket ctl;
  if (ctl.fd() < 0) return Fail("socket(AF_INET)");
  if (!create) {
    struct ifreq probe = ifr;
    if (ioctl(ctl.fd(), SIOCGIFINDEX, &probe) < 0) return Fail("ioctl(SIOCGIFINDEX)");
  }

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Fail("open(/dev/net/tun)");
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offloads ? IFF_VNET_HDR : 0);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    SysResult r = Fail("ioctl(TUNSETIFF)");
    close(fd);
    return r;
  }
  out->offloads = 0;
  if (offloads) {
    SysResult set = SetOffloads(fd, &out->offloads);
    if (set.err != 0) {
      close(fd);
      return set;
    }
  }
  out->name.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  SysResult up = BringUp(ctl.fd(), out->name, mtuBytes, &out->ifindex);
  if (up.err != 0) {
    close(fd);  // a non-persistent TAP disappears with its last fd
    return up;
  }
  out->fd = fd;
  return Ok();
}

SysResult OpenPacket(const std::string& ifname, bool isPromiscuous, const sock_filter* filter,
                     size_t filterLen, int rcvbufBytes, PacketOpened* out) {
  InterfaceInfo info;
  SysResult r = GetInterfaceInfo(ifname, &info);
  if (r.err != 0) return r;
  if (!info.isUp) return SysResult{ENETDOWN, "ioctl(SIOCGIFFLAGS)"};

  // Protocol 0: the socket receives nothing until bind(), so options and the
  // filter are in place before the first frame is queued.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("socket(AF_PACKET)");
  auto failClose = [fd](const char* syscall) {
    SysResult f = Fail(syscall);
    close(fd);
    return f;
  };

  int one = 1;
  // Older kernels lack the option: sll_pkttype is checked on every read anyway.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 && errno != ENOPROTOOPT) {
    return failClose("setsockopt(PACKET_IGNORE_OUTGOING)");
  }
  if (filter != nullptr && filterLen > 0) {
    struct sock_fprog prog;
    prog.len = static_cast<unsigned short>(filterLen);
    prog.filter = const_cast<sock_filter*>(filter);
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
      return failClose("setsockopt(SO_ATTACH_FILTER)");
    }
  }
  if (rcvbufBytes > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbufBytes, sizeof(rcvbufBytes)) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbufBytes, sizeof(rcvbufBytes)) < 0) {
    return failClose("setsockopt(SO_RCVBUF)");
  }

  struct sockaddr_ll sll;
  std::memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = info.ifindex;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) < 0) return failClose("bind(AF_PACKET)");

  if (isPromiscuous) {
    struct packet_mreq mr;
    std::memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = info.ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
      return failClose("setsockopt(PACKET_ADD_MEMBERSHIP)");
    }
  }
  out->fd = fd;
  out->ifindex = info.ifindex;
  return Ok();
}

SysResult GetInterfaceInfo(const std::string& name, InterfaceInfo* out) {
  struct ifreq ifr;
  if (!SetName(&ifr, name)) return SysResult{EINVAL, "ifname"};
  ControlSocket ctl;
  if (ctl.fd() < 0) return Fail("socket(AF_INET)");
  if (ioctl(ctl.fd(), SIOCGIFINDEX, &ifr) < 0) return Fail("ioctl(SIOCGIFINDEX)");
  out->ifindex = ifr.ifr_ifindex;
  SetName(&ifr, name);
  if (ioctl(ctl.fd(), SIOCGIFFLAGS, &ifr) < 0) return Fail("ioctl(SIOCGIFFLAGS)");
  out->isUp = (ifr.ifr_flags & IFF_UP) != 0;
  SetName(&ifr, name);
  if (ioctl(ctl.fd(), SIOCGIFMTU, &ifr) < 0) return Fail("ioctl(SIOCGIFMTU)");
  out->mtuBytes = ifr.ifr_mtu;
  return Ok();
}

}  // namespace vswitch
