// UdpHandle: one non-blocking UDP socket moved in batches on the Node event
// loop, the link transport's half of the Open vSwitch split (the TypeScript
// side, switch/link/transport/native-udp-transport.ts, keeps every decision).
//
// Receive: uv_poll (level-triggered) says the socket is readable → ONE
//   recvmmsg of up to `batchMessages` reads into a preallocated ArrayBuffer of
//   fixed 64 KiB slots → ONE call into JS, onMessages(count). With UDP_GRO on
//   (Linux ≥ 5.0) one read may carry several datagrams of one sender glued
//   together (the kernel says their size in a cmsg): they are split here, so
//   JS sees datagram i at offsets[i], lengths[i] bytes (a length above
//   maxDatagramBytes means it was cut, MSG_TRUNC, and must be dropped), from
//   addrs[i*6 .. i*6+5]:
//   [family 4|6, port, then for 4: the IPv4 address as a host-order u32;
//   for 6: the 16 address bytes as 4 raw words]. IPv4-mapped IPv6 sources of
//   a dual-stack socket are reported as family 4. Datagrams left in the
//   kernel wake the loop again on its next turn, so other handles get turns.
// Send: resolve(host) → an opaque sockaddr (Uint8Array) made once per
//   destination and cached by the caller; send(messages, sockaddr) → how many
//   left, in ONE sendmmsg per 64 messages. Runs of equal-sized messages (the
//   last may be shorter) go as ONE UDP GSO message (UDP_SEGMENT, up to 64
//   datagrams / 64 KiB): the underlay (veth, bridge, netfilter, the peer's
//   socket with UDP_GRO) then handles one packet where it handled dozens; the
//   datagrams on the wire are the same. A segment size the path refuses
//   (EMSGSIZE/EINVAL: it would need IP fragments) turns GSO off for that size and up,
//   and the run is re-sent datagram by datagram. A message the kernel refuses
//   (EAGAIN/ENOBUFS: queue full, EMSGSIZE, ICMP-reported errors) is dropped
//   and counted, as UDP loses datagrams anyway; nothing throws per packet.
// Errors: creating the handle (socket, bind) throws an Error with errno and
//   syscall. ICMP errors surfacing on recvmmsg (ECONNREFUSED, ...) are counted;
//   any other receive error stops the poll and is reported once,
//   onError(errno, syscall).
// Offload (offload.h): with setOffload(offload), each datagram is first offered to that
// NativeOffload's fast path, and its links may send on this socket; the handle holds a reference to the
// offload while attached (see offload.h for who detaches whom when either side goes first).
// close() stops the poll (uv_close, so nothing keeps the process alive) and
// closes the socket.
#pragma once

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstdint>
#include <cstddef>
#include <vector>

namespace vswitch {

class NativeOffload;

class UdpHandle : public Napi::ObjectWrap<UdpHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit UdpHandle(const Napi::CallbackInfo& info);
  ~UdpHandle() override;

  // The UdpHandle an object wraps, checked by type tag (type-tag.h): anything else is a TypeError (nullptr). It
  // hides ObjectWrap::Unwrap, so the method wrappers of node-addon-api (T::Unwrap) check it too.
  static UdpHandle* Unwrap(Napi::Object wrapper);

  // Sends items[0..count) to one destination (GSO runs, sendmmsg chunks); returns how many the kernel took.
  int SendDatagrams(const struct iovec* items, uint32_t count, struct sockaddr* name, socklen_t nameLen);
  // Its offload closed or went away (offload.h): the handle runs on without. `canTouchJs` false from a finalizer,
  // where the reference is left for this handle's own destructor to drop.
  void OffloadGone(bool canTouchJs);

 private:
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetLengths(const Napi::CallbackInfo& info);
  Napi::Value GetOffsets(const Napi::CallbackInfo& info);
  Napi::Value GetAddrs(const Napi::CallbackInfo& info);
  Napi::Value LocalPort(const Napi::CallbackInfo& info);
  Napi::Value Resolve(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetOffload(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* poll, int status, int events);
  void Drain(int status);
  int ReceiveBatch(int* err);
  uint32_t SplitBatch(int count);
  int SendRun(struct mmsghdr* msgs, uint32_t count);
  uint32_t OffloadBatch(uint32_t entries);
  void StopPoll();
  void CloseFd();
  void LeaveOffload();

  int fd_ = -1;
  bool isIpv6_ = false;
  uint32_t batch_ = 0;
  size_t maxDatagramBytes_ = 0;
  size_t slotStride_ = 0;
  uint8_t* data_ = nullptr;
  uint32_t entries_ = 0;  // datagrams one wake-up can report (batch × GRO segments)
  uint32_t* lengths_ = nullptr;
  uint32_t* offsets_ = nullptr;
  uint32_t* addrs_ = nullptr;
  bool isGro_ = false;
  // Datagrams are offered to this offload's fast path first (offload.h), or nullptr; offloadRef_ keeps its JS
  // object alive while it is set.
  NativeOffload* offload_ = nullptr;
  Napi::ObjectReference offloadRef_;
  std::vector<struct iovec> sendItems_;
  size_t gsoRefusedFrom_ = SIZE_MAX;  // segment sizes ≥ this go without GSO
  Napi::Reference<Napi::ArrayBuffer> bufferRef_;
  Napi::Reference<Napi::Uint32Array> lengthsRef_;
  Napi::Reference<Napi::Uint32Array> offsetsRef_;
  Napi::Reference<Napi::Uint32Array> addrsRef_;
  std::vector<struct mmsghdr> recvMsgs_;
  std::vector<struct iovec> recvIovs_;
  std::vector<struct sockaddr_in6> recvFrom_;
  std::vector<uint8_t> recvControl_;

  uv_poll_t* poll_ = nullptr;
  bool isStarted_ = false;
  bool isDraining_ = false;
  Napi::FunctionReference onMessages_;
  Napi::FunctionReference onError_;
  Napi::AsyncContext* asyncContext_ = nullptr;

  double sendFailed_ = 0;     // messages the kernel refused
  double receiveErrors_ = 0;  // ICMP-driven errors seen on receive
  double receiveCalls_ = 0;   // recvmmsg calls that returned messages
  double sendCalls_ = 0;      // sendmmsg calls
  double gsoSends_ = 0;       // GSO messages sent (each carrying ≥ 2 datagrams)
  double groReads_ = 0;       // reads that carried ≥ 2 datagrams
};

}  // namespace vswitch
